"""Stories: near-duplicate fingerprints, the placement and alert decisions, and the store applying them."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor import stories
from monitor.models import Article, Candidate, Finding, Fingerprint, Hit, Match, Placement, StoryAlert
from monitor.notify import render_message
from monitor.notify.channels import CHANNELS
from monitor.notify.items import alert_items
from monitor.notify.render import Message
from monitor.store import Store
from monitor.store.tables import articles, deliveries, story_bands
from tests import nearduplicates
from tests.pgserver import pg_server, pg_url

__all__ = ["pg_server", "pg_url"]

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

STORY = (
    "Federal officials confirmed on Tuesday that the export permits for the drone cameras were suspended after a "
    "review found the equipment had been used in the conflict. The minister said the government would not "
    "resume the permits until the investigation was complete, and that Canada expected its allies to respect "
    "the end-use assurances they had signed. Opposition critics said the decision came months too late and "
    "called for a public inquiry into how the permits had been approved in the first place."
)
OTHER = (
    "The city council voted late on Monday to extend the transit pass programme for students, after a long "
    "debate over the cost of the subsidy. Councillors who opposed the motion said the money would be better "
    "spent on bus routes in the suburbs, while supporters pointed to a rise in ridership since the programme "
    "began. The mayor said a full report on the programme would be ready before the budget in the spring."
)


def fp(text: str) -> Fingerprint:
    found = stories.fingerprint(text)
    assert found is not None
    return found


def candidate(text: str, story: int = 1, article: int = 1) -> Candidate:
    found = fp(text)
    return Candidate(story, article, found.signature, found.shingles)


# ---- fingerprints and the placement decision ------------------------------------------------------------


def test_short_and_empty_texts_have_no_fingerprint() -> None:
    assert stories.fingerprint("") is None
    assert stories.fingerprint("Read more") is None
    words = " ".join(f"w{i}" for i in range(stories.MIN_SHINGLES + 2))  # exactly MIN_SHINGLES shingles
    assert stories.fingerprint(words) is not None
    assert stories.fingerprint(" ".join(words.split()[:-1])) is None


def test_fingerprints_are_the_same_in_another_process() -> None:
    code = (
        "import json, sys; from monitor import stories; "
        "f = stories.fingerprint(sys.stdin.read()); print(json.dumps([f.signature, f.bands]))"
    )
    env_path = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=STORY,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": env_path, "PYTHONHASHSEED": "123"},
    ).stdout
    signature, bands = json.loads(out)
    assert tuple(signature) == fp(STORY).signature
    assert tuple(bands) == fp(STORY).bands
    assert len(bands) == stories.BANDS


def test_shingles_are_three_consecutive_words_lower_cased() -> None:
    assert stories.shingles("Wescam sensors, on Baykar drones") == {
        "wescam sensors, on",
        "sensors, on baykar",
        "on baykar drones",
    }
    assert stories.shingles("two words") == set()


def test_fingerprints_stay_comparable_with_those_an_earlier_release_stored() -> None:
    """The bands in an archive were stored by earlier runs: the same text must give the same values, or a
    copy published after an upgrade would not find its story (seed, shingles, band keys and hashes pinned)."""
    found = fp(STORY)
    assert found.shingles == 80
    assert found.signature[:4] == (686915175, 1235523846, 3240571779, 230827930)
    assert found.bands[:3] == (-8050275948578962048, 5993527323132777769, -6754187929771756773)
    assert found.bands[-1] == 5687538007189400880


def test_a_packed_fingerprint_unpacks_to_the_same_values() -> None:
    for text in (STORY, OTHER):
        packed = stories.pack_fingerprint(fp(text))
        assert isinstance(packed, bytes) and stories.unpack_fingerprint(packed) == fp(text)
    extreme = Fingerprint(
        (0, 2**32 - 1) * (stories.NUM_PERM // 2), 1, (-(2**63), 2**63 - 1) * (stories.BANDS // 2)
    )
    assert stories.unpack_fingerprint(stories.pack_fingerprint(extreme)) == extreme


def test_a_trimmed_copy_with_boilerplate_joins_the_story() -> None:
    copy = "By The Canadian Press. " + STORY[: len(STORY) * 2 // 3] + " Sign up for our newsletter today."
    placement = stories.place(fp(copy), [candidate(OTHER, story=5, article=5), candidate(STORY, 7, 9)])
    assert placement.story == 7
    assert placement.similarity >= stories.MIN_CONTAINMENT


def test_another_story_stays_apart() -> None:
    assert stories.place(fp(OTHER), [candidate(STORY)]).story is None


def test_no_fingerprint_and_no_candidates_make_a_story_of_their_own() -> None:
    assert stories.place(None, [candidate(STORY)]).story is None
    assert stories.place(fp(STORY), []).story is None


def test_the_most_similar_story_wins_and_the_earliest_on_a_tie() -> None:
    assert stories.place(fp(STORY), [candidate(STORY, 4, 4), candidate(STORY, 2, 3)]).story == 2
    half = STORY[: len(STORY) // 2] + " " + OTHER
    assert stories.place(fp(STORY), [candidate(half, 1, 1), candidate(STORY, 8, 8)]).story == 8


def test_an_exact_copy_joins_the_earliest_of_its_copies_stories() -> None:
    assert stories.place_copy([9, 4, 7]) == Placement(4, 1.0)
    assert stories.place_copy([3]).story == stories.place(fp(STORY), [candidate(STORY, 3, 3)]).story
    with pytest.raises(ValueError, match="exact copy"):
        stories.place_copy([])


def test_jaccard_is_the_share_of_equal_values_of_signatures_of_one_length() -> None:
    assert stories.jaccard((1, 2, 3, 4), (1, 2, 3, 4)) == 1.0
    assert stories.jaccard((1, 2, 3, 4), (1, 9, 3, 9)) == 0.5
    assert stories.jaccard((1, 2, 3, 4), (5, 6, 7, 8)) == 0.0
    with pytest.raises(ValueError, match="signatures of 4 and 3 values"):
        stories.jaccard((1, 2, 3, 4), (1, 2, 3))


def test_containment_is_symmetric_in_size() -> None:
    part = STORY[: len(STORY) * 2 // 3]
    assert stories.containment(fp(part), candidate(STORY)) > 0.8
    assert stories.containment(fp(STORY), candidate(part)) > 0.8


# ---- the alert decision ----------------------------------------------------------------------------------


def test_story_alert_decisions() -> None:
    earlier = {"exports": frozenset({"permit", "drone"})}
    assert stories.story_alert("exports", ["permit"], {}) == StoryAlert(alert=True)
    assert stories.story_alert("exports", ["permit", "drone"], earlier) == StoryAlert(alert=False)
    assert stories.story_alert("exports", ["permit", "Baykar"], earlier) == StoryAlert(True, ("Baykar",))
    assert stories.story_alert("turkey", ["Ankara"], earlier) == StoryAlert(True, ("Ankara",), True)
    assert stories.story_alert("exports", ["drone"], earlier).is_update is False


# ---- the store applies them ------------------------------------------------------------------------------


def article(key: str, text: str, *, feed: str = "wire", at: datetime = T0, title: str = "A story") -> Article:
    return Article(
        feed=feed,
        key=key,
        url=key,
        guid=None,
        title=title,
        summary="",
        text=text,
        published=at,
        first_seen=at,
    )


def finding(item: Article, *matches: Match) -> Finding:
    text = stories.clustering_text(item.title, item.summary, item.text)
    return Finding(item, matches, True, fingerprint=stories.fingerprint(text))


def save(store: Store, *found: Finding, at: datetime = T0) -> dict[str, list[int]]:
    return store.save_articles(
        list(found), {"exports": ["mail"], "turkey": ["mail"]}, now=at, stories=stories
    )


def story_of(store: Store, key: str) -> int:
    with store.engine.begin() as conn:
        return int(conn.scalar(select(articles.c.story_id).where(articles.c.key == key)))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")


def test_copies_join_the_first_articles_story_across_restarts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    first = Store.open(url)
    save(first, finding(article("https://cp.example/a", STORY)))
    first.close()
    again = Store.open(url)
    copy = "Advertisement. " + STORY[:300] + " With files from Reuters."
    save(again, finding(article("https://cbc.example/a", copy, feed="cbc", at=T0 + timedelta(hours=1))))
    save(again, finding(article("https://city.example/b", OTHER, feed="city")))
    origin = story_of(again, "https://cp.example/a")
    assert story_of(again, "https://cbc.example/a") == origin
    assert story_of(again, "https://city.example/b") != origin
    with again.engine.begin() as conn:
        assert conn.scalar(select(articles.c.id).where(articles.c.key == "https://cp.example/a")) == origin
        assert len(conn.execute(select(story_bands)).all()) == 3 * stories.BANDS


def test_copies_within_one_batch_find_each_other(store: Store) -> None:
    save(
        store, finding(article("https://a.example/1", STORY)), finding(article("https://b.example/1", STORY))
    )
    assert story_of(store, "https://a.example/1") == story_of(store, "https://b.example/1")


def test_copies_in_one_batch_join_a_stored_story_together(store: Store) -> None:
    save(
        store, finding(article("https://a.example/1", STORY)), finding(article("https://o.example/1", OTHER))
    )
    trimmed = "Advertisement. " + STORY[:300] + " With files from Reuters."
    save(
        store,
        finding(article("https://b.example/1", OTHER, feed="b")),
        finding(article("https://c.example/1", STORY, feed="c")),
        finding(article("https://d.example/1", trimmed, feed="d")),
    )
    origin, other = story_of(store, "https://a.example/1"), story_of(store, "https://o.example/1")
    assert origin != other
    assert story_of(store, "https://c.example/1") == story_of(store, "https://d.example/1") == origin
    assert story_of(store, "https://b.example/1") == other


def test_exact_copies_join_the_story_and_store_no_bands_of_their_own(store: Store) -> None:
    save(
        store, finding(article("https://a.example/1", STORY)), finding(article("https://o.example/1", OTHER))
    )
    save(store, finding(article("https://b.example/1", STORY, feed="b")))  # a copy of a stored article
    save(  # copies of a stored article, and of one stored in the same batch
        store,
        finding(article("https://c.example/1", STORY, feed="c")),
        finding(article("https://d.example/1", OTHER + " Updated.", feed="d")),
        finding(article("https://e.example/1", OTHER + " Updated.", feed="e")),
    )
    origin, other = story_of(store, "https://a.example/1"), story_of(store, "https://o.example/1")
    assert [story_of(store, f"https://{site}.example/1") for site in "bcde"] == [origin, origin, other, other]
    with store.engine.begin() as conn:
        owners = conn.execute(select(story_bands.c.article_id).distinct()).scalars().all()
        assert sorted(owners) == sorted(
            conn.scalars(
                select(articles.c.id).where(
                    articles.c.key.in_(["https://a.example/1", "https://o.example/1", "https://d.example/1"])
                )
            )
        )


def test_exact_copies_are_placed_as_comparing_every_candidate_places_them(store: Store) -> None:
    """The labelled set with exact copies of every third article added later: the stories the store gives
    (copies joining their copies' story without comparing) are those of comparing each article with every
    earlier one that shares a band."""
    items = [(item.title, item.text) for item in nearduplicates.labelled_set(nearduplicates.corpus_path())]
    items += items[::3]
    found = [
        finding(article(f"https://outlet.example/{n}", text, title=title, at=T0 + timedelta(minutes=n)))
        for n, (title, text) in enumerate(items)
    ]
    for start in range(0, len(found), 50):
        save(store, *found[start : start + 50])
    given = [story_of(store, f"https://outlet.example/{n}") for n in range(len(found))]

    compared: list[int] = []  # story by index, a story named by the index of its first article
    bands = [set(f.fingerprint.bands) if f.fingerprint else set() for f in found]
    for n, new in enumerate(found):
        candidates = [
            Candidate(compared[m], m, earlier.fingerprint.signature, earlier.fingerprint.shingles)
            for m, earlier in enumerate(found[:n])
            if earlier.fingerprint is not None and bands[m] & bands[n]
        ]
        placed = stories.place(new.fingerprint, candidates)
        compared.append(placed.story if placed.story is not None else n)
    assert sum(story != n for n, story in enumerate(compared)) > 300  # many joined a story
    assert _partition(given) == _partition(compared)


def _partition(story_of_each: list[int]) -> list[int]:
    """Each article's story named by the position of the story's first article, whatever ids named it."""
    first: dict[int, int] = {}
    return [first.setdefault(story, n) for n, story in enumerate(story_of_each)]


def test_tiny_texts_never_cluster(store: Store) -> None:
    found = [finding(article(f"https://t.example/{i}", "", title="Read more")) for i in range(20)]
    assert all(f.fingerprint is None for f in found)
    save(store, *found)
    assert len({story_of(store, f"https://t.example/{i}") for i in range(20)}) == 20


def test_without_story_rules_every_article_is_its_own_story(store: Store) -> None:
    one, two = finding(article("https://a.example/1", STORY)), finding(article("https://b.example/1", STORY))
    store.save_articles([one, two], {}, now=T0)
    assert story_of(store, "https://a.example/1") != story_of(store, "https://b.example/1")


def match(watchlist: str, *terms: str) -> Match:
    return Match(watchlist, terms)


def pending(store: Store) -> list[int]:
    with store.engine.begin() as conn:
        return list(conn.scalars(select(deliveries.c.hit_id).order_by(deliveries.c.id)))


def test_a_copy_adding_nothing_does_not_alert_again(store: Store) -> None:
    save(store, finding(article("https://cp.example/a", STORY), match("exports", "permit")))
    saved = save(
        store, finding(article("https://ctv.example/a", STORY, feed="ctv"), match("exports", "permit"))
    )
    hit_id = saved["https://ctv.example/a"][0]
    assert hit_id not in pending(store)  # stored for the record, not alerted
    assert len(pending(store)) == 1


def test_a_copy_with_new_terms_or_watchlists_alerts_as_an_update(store: Store) -> None:
    save(store, finding(article("https://cp.example/a", STORY, feed="cp"), match("exports", "permit")))
    copy = article("https://ctv.example/a", STORY + " Baykar declined to comment.", feed="ctv")
    saved = save(store, finding(copy, match("exports", "permit", "Baykar"), match("turkey", "Baykar")))
    assert set(saved["https://ctv.example/a"]) <= set(pending(store))
    by_watchlist = {hit.watchlist: hit for hit in store.hits() if hit.feed == "ctv"}
    assert by_watchlist["exports"].new_terms == ("Baykar",)
    assert by_watchlist["exports"].new_watchlist is False
    assert by_watchlist["turkey"].new_watchlist is True and by_watchlist["turkey"].is_update
    assert by_watchlist["exports"].outlets == ("cp",)
    first = next(hit for hit in store.hits() if hit.feed == "cp")
    assert first.outlets == ("ctv",) and not first.is_update
    assert first.story == by_watchlist["exports"].story


def test_an_old_copy_never_alerts(store: Store) -> None:
    save(store, finding(article("https://cp.example/a", STORY), match("exports", "permit")))
    late = replace(finding(article("https://ctv.example/a", STORY), match("exports", "Baykar")), alert=False)
    save(store, late)
    assert len(pending(store)) == 1


# ---- the labelled set: pairwise precision and recall ----------------------------------------------------


def test_labelled_near_duplicates_precision_and_recall(store: Store) -> None:
    items = nearduplicates.labelled_set(nearduplicates.corpus_path())
    assert sum(i.kind == "copy" for i in items) > 200 and sum(i.kind == "original" for i in items) > 150
    found = [
        finding(
            article(f"https://outlet.example/{n}", item.text, title=item.title, at=T0 + timedelta(minutes=n))
        )
        for n, item in enumerate(items)
    ]
    for start in range(0, len(found), 50):
        save(store, *found[start : start + 50])
    predicted = [story_of(store, f"https://outlet.example/{n}") for n in range(len(items))]
    precision, recall = nearduplicates.precision_recall([i.story for i in items], predicted)
    assert precision >= 0.95
    assert recall >= 0.95


# ---- rendering: each story once, with its outlets, updates named ----------------------------------------


def hit(
    hit_id: int, *, story: int, feed: str, outlets: tuple[str, ...] = (), new: tuple[str, ...] = ()
) -> Hit:
    return Hit(
        id=hit_id, watchlist="exports", feed=feed, url=f"https://{feed}.example/{hit_id}", title=f"Story {story}",
        published=T0 + timedelta(minutes=hit_id), found_at=T0, matched=("permit",), snippets=(),
        story=story, outlets=outlets, new_terms=new,
    )  # fmt: skip


def shown_everywhere(message: Message, line: str) -> bool:
    """Whether every kind of service's body shows ``line``, written in that service's escaping."""
    chats = [
        CHANNELS[name].dialect.escape(line) in body.body
        for name, body in message.bodies.items()
        if name in CHANNELS
    ]
    return all(chats) and len(chats) == len(CHANNELS) and line in message.html and line in message.text


def test_an_alert_lists_each_story_once_with_its_outlets() -> None:
    message = render_message(
        "chat",
        [
            hit(1, story=1, feed="cp", outlets=("CBC", "CTV")),
            hit(2, story=1, feed="cbc"),
            hit(3, story=3, feed="x"),
        ],
    )
    shown = message.title + "\n" + message.text  # the lead title is the subject, not repeated below it
    assert shown.count("Story 1") == 1 and shown.count("Story 3") == 1
    assert "also in: CBC, CTV" not in message.text  # the newest copy stands for the story
    only = render_message("chat", [hit(1, story=1, feed="cp", outlets=("CBC", "CTV"))])
    assert shown_everywhere(only, "also in: CBC, CTV")


def test_an_update_names_what_is_new() -> None:
    message = render_message("chat", [hit(4, story=1, feed="ctv", new=("Baykar",))])
    assert shown_everywhere(message, "Update (new: Baykar)")
    watchlist = replace(hit(5, story=1, feed="ctv", new=("Ankara",)), new_watchlist=True)
    assert "the story now matches exports" in render_message("chat", [watchlist]).text


# ---- PostgreSQL: the same bands, read by another connection ---------------------------------------------


def test_stories_on_postgresql_across_two_stores(pg_url: str) -> None:
    first, second = Store.open(pg_url), Store.open(pg_url)  # two engines: as two processes would
    try:
        save(first, finding(article("https://cp.example/a", STORY), match("exports", "permit")))
        copy = article("https://ctv.example/a", "Advertisement. " + STORY, feed="ctv")
        save(second, finding(copy, match("exports", "permit", "Baykar")))
        save(second, finding(article("https://city.example/b", OTHER, feed="city")))
        assert story_of(second, "https://ctv.example/a") == story_of(first, "https://cp.example/a")
        assert story_of(second, "https://city.example/b") != story_of(first, "https://cp.example/a")
        [update] = [hit for hit in second.hits() if hit.feed == "ctv"]
        assert update.new_terms == ("Baykar",) and update.outlets == ("wire",)
        [story] = [s for s in second.stories(watchlist="exports")]
        assert [a.feed for a in story.articles] == ["wire", "ctv"]
    finally:
        first.close()
        second.close()


def test_one_item_per_story_across_watchlists_marked_as_an_update_only_when_every_hit_adds() -> None:
    first_alert = hit(1, story=1, feed="cp", outlets=("CTV",))
    turkey = replace(hit(2, story=1, feed="ctv", outlets=("cp",)), watchlist="turkey", new_watchlist=True)
    [item] = alert_items([first_alert, turkey])
    assert item.watchlists == ("exports", "turkey") and item.update == ""  # the story's first alert here
    assert (item.outlet, item.also_in) == ("ctv", ("cp",))  # the newest copy stands for the story
    added = [hit(4, story=1, feed="ctv", new=("Baykar",)), replace(turkey, id=5, new_terms=("Ankara",))]
    [update] = alert_items(added)
    assert update.update == "new: Baykar; the story now matches turkey"
    assert [i.key for i in alert_items([first_alert, hit(3, story=3, feed="x")])] == ["story:3", "story:1"]


def test_a_candidate_exactly_at_the_containment_threshold_joins_and_one_just_under_does_not() -> None:
    # 30 of 120 values equal: Jaccard 0.25; with 15 and 10 shingles the containment is 0.25 * 25 / 1.25 / 10
    new = Fingerprint(tuple(range(120)), 15, ())
    at = tuple(range(30)) + tuple(range(1000, 1090))
    under = tuple(range(29)) + tuple(range(1000, 1091))
    assert stories.containment(new, Candidate(3, 3, at, 10)) == stories.MIN_CONTAINMENT
    assert stories.place(new, [Candidate(3, 3, at, 10)]).story == 3
    assert stories.place(new, [Candidate(3, 3, under, 10)]).story is None
