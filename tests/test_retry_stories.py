"""A page whose text arrives on a retry is placed in a story as an article stored with its text on its first poll:
a wire copy fetched late joins the story of the earlier copy, and alerts only when it adds something.

Real parts throughout: the pipeline built from a config file, a local HTTP server whose page fails once and then
answers, and the store on a SQLite file.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.models import Hit
from monitor.runtime import load_config, open_runtime
from monitor.store import Outbox, PageRetries, Store
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
