"""A page whose text arrives on a retry is placed in a story as an article stored with its text on its first poll:
a wire copy fetched late joins the story of the earlier copy, and alerts only when it adds something.

Real parts throughout: the pipeline built from a config file, a local HTTP server whose page fails once and then
answers, and the store on a SQLite file.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor import stories
from monitor.models import Article, Finding, Hit, Match, PendingPage
from monitor.runtime import load_config, open_runtime
from monitor.store import Outbox, PageRetries, Store
from monitor.store.tables import articles, story_bands
from monitor.workers import WorkerPool
from tests.factory import Item, article_page, rss, write_config
from tests.httpserver import LocalServer, http_server

__all__ = ["http_server"]

TERMS = ["Wescam", "Baykar", "export permit*"]
WATCHLIST = {"name": "arms-exports", "terms": TERMS, "notify": ["desk"]}
HTML = {"Content-Type": "text/html; charset=utf-8"}
PARAGRAPHS = [
    "Turkish Baykar drones downed near the border last month carried Canadian Wescam targeting cameras, a report says.",
    "Ottawa has not said whether it granted any new export permits for the sensors after the review it ordered in spring.",
    "Researchers who track the arms trade matched the serial numbers on the cameras to a shipment documented in 2023.",
    "At a briefing on Monday the foreign minister said her department was examining the findings very closely indeed.",
    "Members of the opposition want the trade committee to hear from senior officials before parliament rises for winter.",
    "The camera maker said it does not discuss individual customers and that it follows the law wherever it sells.",
]
COPY = [
    "By The Canadian Press.",
    *PARAGRAPHS[: max(3, len(PARAGRAPHS) * 2 // 3)],
    "Sign up for our newsletter.",
]


def serve(server: LocalServer, at: datetime) -> None:
    """The wire's story, and an outlet's copy of it whose page is busy (503) for now."""
    server.route(
        "/cp.xml", body=rss([Item("Drone cameras: permits questioned", server.url("/cp/story"), "", at)])
    )
    server.route("/cbc.xml", body=rss([Item("CBC: cameras on drones", server.url("/cbc/story"), "", at)]))
    server.route("/cp/story", body=article_page("Permits questioned", PARAGRAPHS), headers=HTML)
    server.route("/cbc/story", status=503, body=b"busy")


def poll_then_retry(config: Path, server: LocalServer, now: datetime, copy: list[str]) -> tuple[int, int]:
    """Poll both feeds at ``now`` (the copy's page fails), then serve the copy and fetch it again when due.
    Returns the hits of the poll and of the retry."""

    async def go() -> tuple[int, int]:
        with WorkerPool(0) as inline:
            async with open_runtime(load_config(config), workers=inline) as runtime:
                results = await runtime.pipeline.poll_many(runtime.config.jobs, now)
                server.route("/cbc/story", body=article_page("Cameras on drones", copy), headers=HTML)
                retried = await runtime.pipeline.retry_pages(now + timedelta(minutes=3))
                assert (retried.fetched, retried.pending) == (1, 0)
                return sum(r.hits for r in results), retried.hits

    return asyncio.run(go())


def setup(tmp_path: Path, server: LocalServer, terms: tuple[str, ...] = ()) -> tuple[Path, datetime]:
    now = datetime.now(UTC)
    serve(server, now - timedelta(hours=1))
    config = write_config(
        tmp_path,
        feeds=[{"name": "cp", "url": server.url("/cp.xml")}, {"name": "cbc", "url": server.url("/cbc.xml")}],
        watchlists=[{**WATCHLIST, "terms": [*TERMS, *terms]}],
        notifiers=[{"name": "desk"}],
    )
    return config, now


def by_feed(store: Store) -> dict[str, Hit]:
    return {hit.feed: hit for hit in store.hits()}


def test_a_copy_whose_page_arrives_on_a_retry_joins_the_earlier_story_and_stays_silent(
    tmp_path: Path, http_server: LocalServer
) -> None:
    config, now = setup(tmp_path, http_server)
    polled, retried = poll_then_retry(config, http_server, now, COPY)
    assert (polled, retried) == (1, 1)  # the copy's hit came with its text, on the retry
    store = Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        hits = by_feed(store)
        assert hits["cbc"].story == hits["cp"].story  # one story: the copy joined the wire's
        [story] = [s for s in store.stories() if len(s.articles) > 1]
        assert sorted(a.feed for a in story.articles) == ["cbc", "cp"]
        assert story.id == hits["cp"].story
        assert hits["cbc"].outlets and hits["cp"].outlets  # each names the other's outlet
        # The copy matched the terms the story had already alerted on: stored, and not alerted again.
        due = Outbox(store.engine).due(now + timedelta(minutes=3))
        assert [d.hit.feed for d in due] == ["cp"]
        assert PageRetries(store.engine).listing() == []
    finally:
        store.close()


def test_a_late_copy_that_adds_a_term_alerts_as_an_update_of_the_story(
    tmp_path: Path, http_server: LocalServer
) -> None:
    config, now = setup(tmp_path, http_server, terms=("Aselsan",))
    added = [
        *COPY[:-1],
        "Officials said a second Wescam order had been placed.",
        "It named Aselsan as a buyer.",
    ]
    assert poll_then_retry(config, http_server, now, added) == (1, 1)
    store = Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        hits = by_feed(store)
        assert hits["cbc"].story == hits["cp"].story
        assert hits["cbc"].new_terms == ("Aselsan",) and hits["cbc"].new_watchlist is False
        due = Outbox(store.engine).due(now + timedelta(minutes=3))
        assert sorted(d.hit.feed for d in due) == ["cbc", "cp"]  # the copy alerts for what it adds
    finally:
        store.close()


# --- the store's rules, on SQLite and PostgreSQL -------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path / 'monitor.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    store = Store.open(url)
    store.sync_feeds({name: f"https://{name}.example/feed" for name in ("wire", "outlet", "copy")})
    yield store
    store.close()


def stored(store: Store, feed: str, text: str, *, pending: str = "", summary: str = "") -> Article:
    """An article saved as a poll saves it, placed in a story: with its text, or (``pending``: the text its page
    will give) without it and a fetch of its page to try again. Returns it as its page will give it."""
    at = datetime.now(UTC)
    url = f"https://{feed}.example/story"
    article = Article(feed, url, url, None, "Cameras on drones", summary, text, at, at)
    retry = (
        PendingPage(url, feed, url, f"https://{feed}.example/feed", 1, 0, at, at, "HTTP 503")
        if pending
        else None
    )
    fingerprint = stories.fingerprint(stories.clustering_text(article.title, summary, text))
    store.save_articles([Finding(article, (), True, retry, fingerprint)], {}, now=at, stories=stories)
    return dataclasses.replace(article, text=pending or text)


def arrives(store: Store, article: Article) -> dict[str, int]:
    """The article's page arrives on a retry, matched by the watchlist."""
    match = Match("arms-exports", ("Wescam",))
    fingerprint = stories.fingerprint(stories.clustering_text(article.title, article.summary, article.text))
    finding = Finding(article, (match,), True, fingerprint=fingerprint)
    pages = PageRetries(store.engine, store.index)
    return pages.complete(finding, {"arms-exports": ("desk",)}, now=article.first_seen, stories=stories)


def story_of(store: Store, article: Article) -> int:
    with store.engine.begin() as conn:
        return int(
            conn.execute(select(articles.c.story_id).where(articles.c.key == article.key)).scalar_one()
        )


OTHER = (
    "The city council voted on Tuesday to repair the old river bridge before the first snow arrives this winter. "
    "Engineers told councillors that cracks found in the spring had grown and that heavy lorries should be banned. "
    "Shop owners on the east bank fear that a closure would cut their trade just before the holiday season begins. "
    "The mayor promised a temporary footbridge and extra buses while the work goes on, funded from the reserves. "
    "A public meeting about the timetable will be held at the library next Thursday evening, organisers said."
)


def test_the_store_places_a_retried_page_by_its_text(database: Store) -> None:
    text = " ".join(PARAGRAPHS)
    wire = stored(database, "wire", text)
    late = stored(database, "outlet", "", pending=text)
    assert story_of(database, late) != story_of(database, wire)  # no text yet: a story of its own
    assert list(arrives(database, late)) == ["arms-exports"]
    assert story_of(database, late) == story_of(database, wire)
    assert PageRetries(database.engine).listing() == []
    [hit] = database.hits()
    assert hit.story == story_of(database, wire) and not hit.new_terms


def test_a_retried_page_that_others_joined_keeps_its_story(database: Store) -> None:
    """An article placed by its summary, which a later copy joined, stays in the story they share even when its
    page's text resembles another story."""
    council = stored(database, "wire", OTHER)
    first = stored(database, "outlet", "", pending=OTHER, summary=" ".join(PARAGRAPHS))
    copy = stored(database, "copy", " ".join(PARAGRAPHS))
    shared = story_of(database, first)
    assert story_of(database, copy) == shared != story_of(database, council)
    arrives(database, first)
    assert story_of(database, first) == story_of(database, copy) == shared


def test_copies_of_a_text_find_its_story_after_the_article_they_copied_is_placed_again(
    database: Store,
) -> None:
    """An exact copy stores no bands of its own; when the article it copied is placed again by its page's text,
    that article's bands go to the copy, so later copies of the text still find the story."""
    summary = " ".join(PARAGRAPHS)
    first = stored(database, "outlet", "", pending=OTHER, summary=summary)
    copy = stored(database, "copy", "", summary=summary)  # the same title and summary: an exact copy
    shared = story_of(database, first)
    assert story_of(database, copy) == shared
    assert band_owners(database) == {first.key}
    arrives(database, first)  # its page's text is another one: it keeps its story (joined) and its new bands
    assert story_of(database, first) == shared
    assert band_owners(database) == {first.key, copy.key}
    later = stored(database, "wire", "", summary=summary)
    assert story_of(database, later) == shared
    assert band_owners(database) == {first.key, copy.key}


def band_owners(store: Store) -> set[str]:
    """The keys of the articles that have bands stored."""
    with store.engine.begin() as conn:
        owners = select(articles.c.key).where(articles.c.id.in_(select(story_bands.c.article_id)))
        return set(conn.scalars(owners))
