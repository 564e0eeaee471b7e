"""The pending page fetches on a real SQLite database: which are due (at their time, that instant included), and
that rescheduling, giving up and completing touch only the article they name."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from monitor.models import Article, Finding, PendingPage
from monitor.store import PageRetries, Store
from monitor.store.tables import articles

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def pending(store: Store, name: str, due: datetime) -> Article:
    url = f"https://news.example/{name}"
    article = Article("wire", url, url, None, f"Story {name}", "", "", NOW, NOW)
    retry = PendingPage(url, "wire", url, "https://news.example/feed", 1, 0, NOW, due, "HTTP 503")
    store.save_articles([Finding(article, (), True, retry)], {}, now=NOW)
    return article


def fetch_errors(store: Store) -> dict[str, str | None]:
    with store.engine.begin() as conn:
        return {
            row.title: row.fetch_error
            for row in conn.execute(select(articles.c.title, articles.c.fetch_error))
        }


def test_a_pending_page_is_due_at_its_time_that_instant_included(store: Store) -> None:
    store.sync_feeds({"wire": "https://news.example/feed"})
    pending(store, "a", NOW)
    pending(store, "b", NOW + timedelta(minutes=5))
    pages = PageRetries(store.engine)
    assert pages.claim_due(NOW - TICK, NOW + timedelta(minutes=1)) == []
    claimed = pages.claim_due(NOW, NOW + timedelta(minutes=1))
    assert [(p.url, a.title) for p, a in claimed] == [("https://news.example/a", "Story a")]
    # claimed until a minute on: not due again before then, due again at that instant
    assert pages.claim_due(NOW + timedelta(minutes=1) - TICK, NOW + timedelta(hours=1)) == []
    again = pages.claim_due(NOW + timedelta(minutes=1), NOW + timedelta(hours=1))
    assert [p.url for p, _ in again] == ["https://news.example/a"]


def test_rescheduling_and_giving_up_touch_only_the_article_named(store: Store) -> None:
    store.sync_feeds({"wire": "https://news.example/feed"})
    pending(store, "a", NOW)
    pending(store, "b", NOW)
    pages = PageRetries(store.engine)
    first, second = pages.listing()
    later = dataclasses.replace(
        first, failures=2, next_attempt=NOW + timedelta(hours=2), last_error="timeout"
    )
    pages.reschedule(later)
    assert {p.url: (p.failures, p.last_error) for p in pages.listing()} == {
        first.url: (2, "timeout"),
        second.url: (1, "HTTP 503"),
    }
    pages.give_up(second.article_key, "HTTP 404 Not Found")
    assert [p.url for p in pages.listing()] == [first.url]
    assert fetch_errors(store) == {"Story a": None, "Story b": "HTTP 404 Not Found"}


def test_a_page_that_arrives_completes_only_its_article(store: Store) -> None:
    store.sync_feeds({"wire": "https://news.example/feed"})
    a = pending(store, "a", NOW)
    pending(store, "b", NOW)
    pages = PageRetries(store.engine, store.index)
    with_text = dataclasses.replace(a, text="The page's text, at last.")
    assert pages.complete(Finding(with_text, (), True), {}, now=NOW) == {}
    assert [p.url for p in pages.listing()] == ["https://news.example/b"]
    with store.engine.begin() as conn:
        texts = dict(conn.execute(select(articles.c.title, articles.c.text)).all())
    assert texts == {"Story a": "The page's text, at last.", "Story b": ""}
    unknown = dataclasses.replace(with_text, key="https://news.example/never-stored")
    assert pages.complete(Finding(unknown, (), True), {}, now=NOW) == {}
