"""The archive's period, feed and language filters and its batched reads, on a real SQLite database: articles
published at the start of the period are in it, a language is matched whatever its case, every article asked
for is read however many there are, and a watchlist's stored hits keep to their period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.models import Article, Match, Snippet
from monitor.store import Store
from monitor.store.archive import BATCH, FIRST_BATCH, Archive

T0 = datetime(2026, 8, 1, 6, 0, tzinfo=UTC)


def save(
    store: Store, n: int, at: datetime, *, feed: str = "wire", language: str = "en", hit: bool = False
) -> None:
    key = f"https://news.example/{n}"
    article = Article(feed, key, key, None, f"Story {n}", "", f"Text {n}.", at, at, language=language)
    matches = [Match("arms", ("Wescam",), (Snippet("body", "Text.", ((0, 4),)),), ("body",))] if hit else []
    store.save_article(article, matches, {"arms": ()}, alert=False, now=at)


def test_the_period_starts_at_its_instant_and_the_language_ignores_case(store: Store) -> None:
    save(store, 1, T0, language="fr")
    save(store, 2, T0 + timedelta(hours=1), feed="gazette")
    save(store, 3, T0 - timedelta(microseconds=1))
    archive = Archive(store)
    assert archive.count(since=T0) == 2
    assert archive.count(since=T0, feed="gazette") == 1
    assert len(archive.candidate_ids(None, since=T0)) == 2
    assert len(archive.candidate_ids(None, language=" FR ")) == 1
    assert len(archive.candidate_ids(None, language="en")) == 2


def test_a_watchlists_hits_keep_to_their_period(store: Store) -> None:
    save(store, 1, T0, hit=True)
    save(store, 2, T0 - timedelta(microseconds=1), hit=True)
    save(store, 3, T0 + timedelta(hours=1))
    archive = Archive(store)
    ids = {a.title: a.id for a in archive.articles(archive.candidate_ids(None))}
    assert archive.stored_hits("arms", since=T0) == {ids["Story 1"]: None}
    assert archive.stored_hits("arms") == {ids["Story 1"]: None, ids["Story 2"]: None}
    assert archive.stored_hits("other") == {}


def test_every_article_asked_for_is_read_in_order_across_batches(store: Store) -> None:
    count = FIRST_BATCH + BATCH + 1
    for n in range(count):
        save(store, n, T0 + timedelta(seconds=n))
    archive = Archive(store)
    ids = archive.candidate_ids(None)
    assert len(ids) == count
    assert [a.id for a in archive.articles(ids)] == ids
    assert [a.id for a in archive.articles(ids[:1])] == ids[:1] and list(archive.articles([])) == []


def test_the_pages_to_recheck_are_those_first_captured_since_the_instant_asked(store: Store) -> None:
    from monitor.models import FetchResult, Finding

    key = "https://news.example/page"
    article = Article("wire", key, key, None, "Cameras", "", "The page's text.", T0, T0)
    match = Match("arms", ("Wescam",), (Snippet("body", "The page's text.", ((4, 8),)),), ("body",))
    page = FetchResult(key, key, 200, b"<html>The page's text.</html>", {"content-type": "text/html"})
    store.save_articles([Finding(article, (match,), False, page=page)], {"arms": ()}, now=T0)
    archive = Archive(store)
    [target] = archive.recheck_targets(T0)  # captured at that very instant
    assert (target.url, target.watchlists, target.last_text) == (key, ("arms",), "The page's text.")
    assert archive.recheck_targets(T0 + timedelta(microseconds=1)) == []
