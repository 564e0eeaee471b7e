"""A poll's entries made articles: those that wait for nothing (no page to fetch, no Google News link to follow,
their language told by the feed's read) are made at once, the others concurrently, and every one comes out
as the entry's own ``_article`` makes it, in the entries' order. Real pipeline, fetcher and store, a local
HTTP server, workers run inline."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from monitor.fetch import Fetcher
from monitor.match import compile_watchlists
from monitor.models import Entry, FeedJob
from monitor.poll import ArticleBuilt, Pipeline
from monitor.store import Store
from monitor.urls import canonical_url
from monitor.workers import WorkerPool
from tests.helpers import POLL_LIMITS as LIMITS
from tests.helpers import LocalServer, article_page, story_paragraphs

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
T = TypeVar("T")


def google_news_link(publisher: str) -> str:
    """A Google News link whose id carries the publisher's URL (decoded offline, no request)."""
    payload = publisher.encode()
    message = b"\x08\x13\x22" + bytes([len(payload)]) + payload
    return f"https://news.google.com/rss/articles/{base64.urlsafe_b64encode(message).decode().rstrip('=')}"


def entry(
    key: str, url: str | None, title: str = "Drone cameras for export", summary: str = "Sold abroad."
) -> Entry:
    return Entry(key=key, url=url, guid=None, title=title, summary=summary, published=None)


def with_pipeline(store: Store, use: Callable[[Pipeline], Awaitable[T]]) -> T:
    async def run() -> T:
        async with Fetcher(timeout=5.0, user_agent="monitor-test") as fetcher:
            with WorkerPool(0) as workers:
                pipeline = Pipeline(
                    fetcher, workers, store, compile_watchlists([]), {}, LIMITS, random.Random(1)
                )
                return await use(pipeline)

    return asyncio.run(run())


def test_an_entry_is_made_at_once_only_when_it_waits_for_nothing(
    store: Store, http_server: LocalServer
) -> None:
    story = http_server.route("/story", body=article_page("Drone parts", story_paragraphs()))
    plain = FeedJob("wire", http_server.url("/feed.xml"), 600.0, fulltext=False)
    full = FeedJob("wire", http_server.url("/feed.xml"), 600.0, fulltext=True)
    told = {"a": "en", "g": "en", "t": None}
    at_hand = entry("a", story)
    google = entry("g", google_news_link("https://www.cbc.ca/news/drone-cameras-1.7012345"))
    untold = entry("u", story)
    no_link = entry("t", None)

    async def use(pipeline: Pipeline) -> list[ArticleBuilt | None]:
        return [
            pipeline._article_at_hand(job, item, NOW, "Wire", told)
            for job, item in [
                (plain, at_hand),
                (full, at_hand),
                (plain, google),
                (plain, untold),
                (plain, no_link),
            ]
        ]

    made = with_pipeline(store, use)
    assert [result is not None for result in made] == [True, False, False, False, True]
    first, _, _, _, last = made
    assert first is not None and first[0].url == story and first[0].language == "en"
    assert last is not None and last[0].url is None and last[0].language is None


def test_entries_come_out_as_each_one_is_made_and_in_their_order(
    store: Store, http_server: LocalServer
) -> None:
    story = http_server.route("/story", body=article_page("Drone parts", story_paragraphs()))
    entries = [
        entry("a", story, "Ottawa silent on drone parts"),
        entry("g", google_news_link(story)),  # waits: the link is followed to the publisher
        entry("b", http_server.url("/b"), "Wescam sensors sold"),  # its page is not found
        entry(
            "u", story, "Le gouvernement suspend les licences", "Les permis d'armes sont gelés."
        ),  # waits: its language
        entry("t", None, "A note without a link"),
    ]
    told = {"a": "en", "g": "en", "b": None, "t": "en"}
    for fulltext in (False, True):
        job = FeedJob("wire", http_server.url("/feed.xml"), 600.0, fulltext=fulltext)

        async def use(
            pipeline: Pipeline, job: FeedJob = job
        ) -> tuple[list[ArticleBuilt], list[ArticleBuilt]]:
            together = await pipeline._articles(job, entries, NOW, "Wire", told)
            one_by_one = [await pipeline._article(job, item, NOW, "Wire", told) for item in entries]
            return together, one_by_one

        together, one_by_one = with_pipeline(store, use)
        # the same articles and page retries; the same pages (each response's own time aside)
        assert [(article, retry) for article, retry, _ in together] == [(a, r) for a, r, _ in one_by_one]
        assert [page and page.body for _, _, page in together] == [
            page and page.body for _, _, page in one_by_one
        ]
        assert [page is not None for _, _, page in together] == [fulltext, fulltext, False, fulltext, False]
        assert together[1][0].key == canonical_url(story) and together[1][0].via == entries[1].url
        assert [article.title for article, _, _ in together] == [item.title for item in entries]
        assert together[3][0].language == ("en" if fulltext else "fr")  # its English page's, else its own
