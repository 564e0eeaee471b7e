"""The archive on PostgreSQL: the tsvector index, search equal to the matcher, labels, backtest and pruning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from monitor.match import compile_watchlists
from monitor.models import Article, Finding, WatchlistSpec
from monitor.store import Store
from monitor.store.archive import Archive
from monitor.store.index import Term
from monitor.usecases.retention import prune_due
from monitor.usecases.search import backtest, search
from tests.archive_corpus import T0, corpus_articles, fill
from tests.pgserver import pg_server, pg_url

__all__ = ["pg_server", "pg_url"]

pytestmark = pytest.mark.timeout(180)

QUERIES = [
    "police",
    '"White House" NEAR/10 Trump',
    "covid* OR coronavirus",
    "title:(police OR arrested)",
    "football -Liverpool",
    "NOT football",
    "é OR İstanbul OR ß OR o'clock",
    '"prime minist*"',
]


@pytest.fixture
def corpus_store(pg_url: str) -> tuple[Store, list[Article]]:
    store = Store.open(pg_url)
    articles = list(corpus_articles(300))
    fill(store, articles)
    return store, articles


def test_search_on_postgresql_equals_what_a_watchlist_would_hit(
    corpus_store: tuple[Store, list[Article]],
) -> None:
    store, articles = corpus_store
    archive = Archive(store)
    for query in QUERIES:
        matcher = compile_watchlists([WatchlistSpec("w", query=query)])
        expected = [a.key for a in articles if matcher.match(a.fields())]
        assert [f.article.url for f in search(archive, query)] == expected, query
    narrowed = archive.candidate_ids(Term(("police",)))
    assert 0 < len(narrowed) < len(articles)
    with store.engine.begin() as conn:
        assert conn.scalar(text("SELECT count(*) FROM article_index")) == len(articles)
        plan = " ".join(
            conn.scalars(
                text("EXPLAIN SELECT 1 FROM article_index WHERE words @@ CAST('''police''' AS tsquery)")
            )
        )
    assert "article_index" in plan
    store.close()


def test_labels_backtest_and_prune_on_postgresql(pg_url: str) -> None:
    store = Store.open(pg_url)
    corpus = list(corpus_articles(120))
    matcher = compile_watchlists([WatchlistSpec("w", query="police")])
    store.save_articles([Finding(a, tuple(matcher.match(a.fields())), False) for a in corpus], {}, now=T0)
    archive = Archive(store)
    (first, *_) = [h.id for h in store.hits(watchlist="w", limit=None)]
    assert archive.mark(first, "relevant", "yes", T0) is not None
    result = backtest(archive, WatchlistSpec("w", query="police OR court"))
    assert result.lost == 0 and result.gained > 0 and result.recall == 1.0
    pruned = prune_due(archive, 3600.0, T0 + timedelta(days=30))
    assert pruned == len(corpus) - len(store.hits(watchlist="w", limit=None))
    # Pruned text no longer matches; titles and summaries still do, as the matcher says.
    rows = list(archive.articles(archive.candidate_ids(None)))
    check = compile_watchlists([WatchlistSpec("s", query="said")])
    assert [f.article.id for f in search(archive, "said")] == [a.id for a in rows if check.match(a.fields())]
    store.close()


def test_an_oversized_article_is_stored_and_always_a_candidate(pg_url: str) -> None:
    store = Store.open(pg_url)
    huge = next(corpus_articles(1))
    words = " ".join(f"w{n}" for n in range(200_000))  # a tsvector over 1 MB
    article = Article(**{**{f: getattr(huge, f) for f in huge.__slots__}, "text": words + " Bayraktar"})  # type: ignore[attr-defined]
    fill(store, [article])
    archive = Archive(store)
    assert archive.candidate_ids(Term(("nothing",))) == [1]
    assert [f.article.id for f in search(archive, "Bayraktar")] == [1]
    store.close()
