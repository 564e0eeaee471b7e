"""Each page of the web desk over a real SQLite file filled through the real matcher and store: what it shows,
and its 404 and 400 answers."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from monitor.models import Article, Finding
from monitor.store.archive import Archive
from monitor.store.review import HitFilter, Review
from tests.webdesk import CHANGED_TEXT, Filled, csrf_of, desk_client, desk_config, fill, login

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[TestClient, Filled]]:
    with desk_client(tmp_path) as (client, filled):
        login(client)
        yield client, filled


def test_inbox_lists_new_hits_by_story_with_terms_outlets_and_highlighted_snippets(
    desk: tuple[TestClient, Filled],
) -> None:
    client, filled = desk
    page = client.get("/")
    assert page.status_code == 200
    text = page.text
    assert f'id="hit-{filled.hits[filled.wescam]}"' in text
    assert (
        text.count('class="story"') == 2
    )  # the Wescam story and the hostile one; the hockey one hit nothing
    assert "<mark>Wescam</mark>" in text
    assert '<span class="term">Wescam</span>' in text
    assert text.index("Evil Daily") < text.index("Wescam sensors on Baykar drones")  # newest first
    assert "Hockey scores" not in text


def test_inbox_filters_by_watchlist_feed_language_since_and_label(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    permits = client.get("/", params={"watchlist": "permits"}).text
    assert "Wescam sensors on Baykar drones" in permits and "Evil Daily" not in permits
    daily = client.get("/", params={"feed": "daily"}).text
    assert "Evil Daily" in daily and "Wescam sensors" not in daily
    assert "No hits here." in client.get("/", params={"language": "fr"}).text
    assert "No hits here." in client.get("/", params={"since": "2030-01-01"}).text
    assert "Wescam sensors" in client.get("/", params={"since": "1d"}).text
    hit = filled.hits[filled.wescam]
    assert Archive(filled.store).mark(hit, "relevant", None, datetime.now(UTC)) is not None
    assert f'id="hit-{hit}"' not in client.get("/").text  # no longer new
    assert f'id="hit-{hit}"' in client.get("/", params={"label": "relevant"}).text
    assert f'id="hit-{hit}"' in client.get("/", params={"label": "all"}).text


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"watchlist": "nope"}, "watchlist &#39;nope&#39; is not known"),
        ({"label": "spam"}, "label &#39;spam&#39; is not known"),
        ({"feed": "elsewhere"}, "feed &#39;elsewhere&#39; is not known"),
        ({"language": "xx"}, "language &#39;xx&#39;"),
        ({"since": "last tuesday"}, "since &#39;last tuesday&#39;"),
        ({"limit": "0"}, "limit &#39;0&#39;"),
    ],
)
def test_bad_filter_values_are_400_with_the_reason(
    desk: tuple[TestClient, Filled], query: dict[str, str], reason: str
) -> None:
    client, _ = desk
    answer = client.get("/", params=query)
    assert answer.status_code == 400
    assert reason in answer.text
    assert "Traceback" not in answer.text


def test_htmx_requests_get_the_part_they_asked_for(desk: tuple[TestClient, Filled]) -> None:
    client, _ = desk
    part = client.get("/", params={"label": "all"}, headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "<html" not in part.text and 'class="story"' in part.text
    bad = client.get("/", params={"since": "soon"}, headers={"HX-Request": "true"})
    assert bad.status_code == 400
    assert bad.text.startswith('<p class="error" role="alert">400: since &#x27;soon&#x27;')
    client.cookies.clear()
    ended = client.get("/", headers={"HX-Request": "true"}, follow_redirects=False)
    assert ended.status_code == 401 and ended.headers["hx-redirect"] == "/login?next=/"


def test_marking_and_noting_a_hit_uses_the_triage_of_the_cli(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    hit = filled.hits[filled.wescam]
    csrf = csrf_of(client.get("/").text)
    answer = client.post(
        f"/hits/{hit}/mark", data={"label": "irrelevant", "csrf": csrf}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith(f'<li class="hit labelled label-irrelevant" id="hit-{hit}"')
    noted = client.post(f"/hits/{hit}/note", data={"note": "a <b>stale</b> copy", "csrf": csrf})
    assert noted.status_code == 200  # the redirect back to the inbox was followed
    record = Archive(filled.store).hit_records([hit])[hit]
    assert record.label is not None
    assert (record.label.label, record.label.note) == ("irrelevant", "a <b>stale</b> copy")
    # A new mark keeps the note; a note on an unlabelled hit labels it unsure.
    client.post(f"/hits/{hit}/mark", data={"label": "relevant", "csrf": csrf})
    record = Archive(filled.store).hit_records([hit])[hit]
    assert record.label is not None and (record.label.label, record.label.note) == (
        "relevant",
        "a <b>stale</b> copy",
    )
    other = filled.hits[filled.hostile]
    client.post(f"/hits/{other}/note", data={"note": "check", "csrf": csrf})
    record = Archive(filled.store).hit_records([other])[other]
    assert record.label is not None and record.label.label == "unsure"
    assert client.post(f"/hits/{other}/mark", data={"label": "spam", "csrf": csrf}).status_code == 400
    assert client.post("/hits/99999/mark", data={"label": "relevant", "csrf": csrf}).status_code == 404


def test_article_page_highlights_every_match_and_shows_versions_and_evidence(
    desk: tuple[TestClient, Filled],
) -> None:
    client, filled = desk
    page = client.get(f"/articles/{filled.wescam}").text
    body = article_text(page)
    assert body.count("<mark>Wescam</mark>") == 3  # every one, not the three snippets' worth
    assert body.count("<mark>export permits</mark>") == 2
    assert "Update: the minister" in body  # the current text
    assert "<ins>" in page and "Version replaced" in page  # the earlier version and what changed
    assert '<code class="hash">' in page and "Download the WARC file" in page
    searched = article_text(client.get(f"/articles/{filled.wescam}", params={"q": "minister"}).text)
    assert "<mark>minister</mark>" in searched and "<mark>Wescam</mark>" not in searched
    warc = client.get(f"/articles/{filled.wescam}/evidence.warc.gz")
    assert warc.status_code == 200
    assert warc.headers["content-disposition"].startswith("attachment;")
    assert b"WARC/1" in gzip.decompress(warc.content)
    assert CHANGED_TEXT.split()[0] in client.get(f"/articles/{filled.wescam}").text


def article_text(page: str) -> str:
    body = page[page.index('id="article-text"') :]
    return body[: body.index("</div>")]


def test_unknown_ids_are_404_pages(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    for path in ("/articles/424242", "/articles/424242/evidence.warc.gz", "/no/such/page"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "<h1>404</h1>" in answer.text
    no_capture = client.get(f"/articles/{filled.hostile}/evidence.warc.gz")
    assert no_capture.status_code == 404 and "never fetched in full" in no_capture.text


def test_stories_search_backtest_feeds_and_chart_pages(desk: tuple[TestClient, Filled]) -> None:
    client, filled = desk
    stories = client.get("/stories").text
    assert "Wescam sensors on Baykar drones" in stories and "Hockey scores" in stories
    assert "Hockey scores" not in client.get("/stories", params={"watchlist": "arms"}).text
    found = client.get("/search", params={"q": "hockey OR minister"}).text
    assert "2 articles found." in found
    assert f'href="/articles/{filled.quiet}?q=hockey%20OR%20minister"' in found
    bad = client.get("/search", params={"q": '"unclosed'})
    assert bad.status_code == 400 and "query: position" in bad.text
    backtest = client.get("/backtest", params={"watchlist": "arms"}).text
    assert "arms: 3 articles scanned" in backtest and "2 would hit" in backtest
    assert client.get("/backtest", params={"watchlist": "arms", "q": "x"}).status_code == 400
    feeds = client.get("/feeds").text
    assert "<td>never</td>" in feeds and "wire" in feeds and "daily" in feeds
    chart = client.get("/chart", params={"days": "7"}).text
    assert chart.count('class="series"') == 2  # arms and permits
    assert 'data-watchlist="arms"' in chart and "arms (2)" in chart
    assert client.get("/chart", params={"days": "9999"}).status_code == 400


def test_review_pages_merge_the_newest_hits_of_every_watchlist(tmp_path: Path) -> None:
    filled = fill(desk_config(tmp_path))
    store, matcher = filled.store, filled.config.matcher
    start = datetime.now(UTC) + timedelta(days=1)  # after the filled hits
    for hour, text in enumerate(["Wescam one", "export permits two", "Baykar three", "export permit four"]):
        at = start + timedelta(hours=hour)
        article = Article("wire", f"k{hour}", f"https://n.example/{hour}", None, text, "", "", at, at)
        store.save_articles([Finding(article, tuple(matcher.match(article.fields())), True)], {}, now=at)
    review = Review(store)
    everything = [r.hit.id for r in review.hits(HitFilter(limit=None))]
    assert [r.hit.id for r in review.hits(HitFilter(limit=3))] == everything[:3]
    newest = [r.hit.title for r in review.hits(HitFilter(since=start, limit=3))]
    assert newest == ["export permit four", "Baykar three", "export permits two"]
    assert [r.hit.title for r in review.hits(HitFilter(since=start, limit=None))][3:] == ["Wescam one"]
    store.close()
