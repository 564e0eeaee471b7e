"""One item per article, and snippets that add something to the title and to each other."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.models import Hit, Snippet
from monitor.notify.items import alert_items, fold, outlet_name, publisher_link, site_name, useful_snippets

DAY = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
TITLE = "Ottawa approuve des permis d’exportation"


def hit(id: int, watchlist: str, article: int | None, *snippets: Snippet, **changes: object) -> Hit:
    values: dict[str, object] = {
        "id": id,
        "watchlist": watchlist,
        "feed": "le-devoir",
        "url": f"https://example.org/{article}",
        "title": TITLE,
        "published": DAY,
        "found_at": DAY,
        "matched": ("permis",),
        "snippets": snippets,
        "sitename": "Le Devoir",
        "article_id": article,
    }
    values.update(changes)
    return Hit(**values)  # type: ignore[arg-type]


def test_hits_of_one_article_become_one_item_with_each_watchlist_and_its_terms() -> None:
    hits = [
        hit(1, "arms", 7, matched=("permis", "export*")),
        hit(2, "french-desk", 7, matched=("Ottawa",)),
        hit(3, "arms", 8, published=DAY.replace(hour=15)),
    ]
    items = alert_items(hits)
    assert [item.key for item in items] == ["article:8", "article:7"]  # newest first
    assert [(m.watchlist, m.terms) for m in items[1].matches] == [
        ("arms", ("permis", "export*")),
        ("french-desk", ("Ottawa",)),
    ]
    assert items[1].watchlists == ("arms", "french-desk")


def test_hits_without_an_article_id_are_grouped_by_link_then_kept_apart() -> None:
    hits = [hit(1, "a", None), hit(2, "b", None), hit(3, "c", None, url=None), hit(4, "d", None, url=None)]
    assert [item.key for item in alert_items(hits)] == ["url:https://example.org/None", "hit:3", "hit:4"]


def test_a_snippet_repeating_the_title_is_dropped() -> None:
    title_snippet = Snippet("title", "Ottawa approuve des permis d'exportation", ((21, 27),))
    body = Snippet("body", "Le ministre a signé les permis jeudi.", ((24, 30),))
    assert useful_snippets(TITLE, [title_snippet, body]) == (body,)


def test_identical_summary_and_body_snippets_are_shown_once() -> None:
    summary = Snippet("summary", "Les permis ont été accordés.", ((4, 10),))
    body = Snippet("body", "Les PERMIS ont ete accordes…", ((4, 10),))
    assert useful_snippets(TITLE, [summary, body]) == (summary,)


def test_a_snippet_inside_another_is_a_repeat_and_the_longer_stays() -> None:
    short = Snippet("summary", "permis accordés", ((0, 6),))
    long = Snippet("body", "Les permis accordés à Wescam restent secrets.", ((4, 10),))
    assert useful_snippets(TITLE, [short, long]) == (long,)
    assert useful_snippets(TITLE, [long, short]) == (long,)


def test_containment_is_whole_words() -> None:
    one = Snippet("body", "la permission", ((3, 13),))
    other = Snippet("body", "permis", ((0, 6),))
    assert useful_snippets("", [one, other]) == (one, other)


def test_snippets_are_ordered_by_strength_and_capped() -> None:
    weak = Snippet("body", "un permis", ((3, 9),))
    strong = Snippet("body", "permis et Wescam et export", ((0, 6), (10, 16), (20, 26)))
    summary = Snippet("summary", "le permis", ((3, 9),))
    fourth = Snippet("body", "des permis encore", ((4, 10),))
    assert useful_snippets("", [weak, strong, summary, fourth]) == (strong, summary, weak)
    assert useful_snippets("", [weak, strong, summary, fourth], limit=1) == (strong,)


def test_equally_strong_snippets_go_title_summary_body_then_other_fields() -> None:
    url = Snippet("url", "example org news wescam story", ((17, 23),))
    body = Snippet("body", "un permis", ((3, 9),))
    summary = Snippet("summary", "le permis", ((3, 9),))
    title = Snippet("title", "Wescam au Parlement", ((0, 6),))  # another title than the item's (a copy's)
    given = [url, body, summary, title]
    assert useful_snippets("", given, limit=4) == (title, summary, body, url)


def test_item_snippets_come_from_every_hit_of_the_article_without_repeats() -> None:
    shared = Snippet("body", "Le ministre a signé les permis jeudi.", ((24, 30),))
    extra = Snippet("summary", "Wescam équipe les drones.", ((0, 6),))
    [item] = alert_items([hit(1, "arms", 7, shared), hit(2, "wescam", 7, shared, extra)])
    assert item.snippets == (extra, shared)  # equally strong: the summary before the body


def test_empty_or_punctuation_only_snippets_add_nothing() -> None:
    assert useful_snippets("x", [Snippet("body", " … "), Snippet("body", "")]) == ()


def test_fold_ignores_case_accents_and_punctuation() -> None:
    assert fold("  Le PERMIS d’exportation… ") == " le permis d exportation "
    assert fold("Çà, İstanbul!") == fold("ca istanbul")
    assert fold("…") == ""


def test_outlet_name_prefers_a_real_site_name_over_hosts() -> None:
    assert outlet_name("Le Devoir", "le-devoir") == "Le Devoir"
    for host in ("127.0.0.1:43125", "www.ledevoir.com", "https://ledevoir.com/", "localhost:8080", "  "):
        assert outlet_name(host, "le-devoir") == "le-devoir"
    assert outlet_name(None, "le-devoir") == "le-devoir"


def test_site_name_takes_the_first_real_name() -> None:
    assert site_name("127.0.0.1:43125", "Le Devoir | Politique") == "Le Devoir | Politique"
    assert site_name(None, "") is None


def test_the_link_shown_is_the_publishers_without_tracking() -> None:
    url = "https://example.org/a?id=7&utm_source=rss&utm_medium=feed&fbclid=x1&lang=fr#top"
    assert publisher_link(url) == "https://example.org/a?id=7&lang=fr#top"
    assert publisher_link("https://example.org/a") == "https://example.org/a"
    assert publisher_link(None) is None
    [item] = alert_items([hit(1, "arms", 7, url="https://example.org/a?utm_campaign=x")])
    assert item.url == "https://example.org/a"
