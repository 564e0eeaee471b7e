"""The full-text index and `monitor search`: the index only narrows, so a search gives exactly what a
watchlist with the same query would have hit, on real news text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from monitor.match import compile_watchlists
from monitor.models import Article, WatchlistSpec
from monitor.store import Store
from monitor.store.archive import Archive
from monitor.store.engine import alembic_config, create_store_engine
from monitor.store.index import AllOf, AnyOf, Term, fts5_query, tsquery
from monitor.usecases.narrow import narrow_watchlist
from monitor.usecases.search import search
from tests.archive_corpus import T0, corpus_articles, fill, sentence_articles
from tests.factory import json_lines, run_cli, write_config

ARTICLES = 600

QUERIES = [
    "Trump",
    "trump biden",
    '"White House"',
    "covid* OR coronavirus",
    "vaccin* NEAR/5 trial*",
    '"world cup"',
    "title:(police OR arrested)",
    "football -Liverpool",
    "Liverpool NOT football",
    "NOT football",
    "football OR NOT rugby",
    "feed:wire AND election",
    "url:news",
    '"prime minist*"',
    '"new york* times"',
    "é OR İstanbul OR ß",
    "Россия OR россии OR росс*",
    '"в том числе"',
    "Հայաստանի OR Հայաստան*",
    "türkiye* OR Türkiye'nin OR istanbul",
    "straße OR strasse OR über*",
    "Azərbaycan*",
    "summary:minister body:parliament",
    '(Brexit OR "European Union") NEAR/20 (deal OR talks)',
    "zzzznotaword",
    "2020",
]


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, list[Article]]:
    path = tmp_path_factory.mktemp("archive") / "monitor.db"
    store = Store.open(f"sqlite:///{path}")
    articles = list(corpus_articles(ARTICLES))
    articles += sentence_articles(("ru", "hy", "tr", "de", "az"), 30)
    fill(store, articles)
    return store, articles


def brute_force(query: str, articles: list[Article]) -> list[str]:
    """What a watchlist with this query hits, article by article, with no index."""
    matcher = compile_watchlists([WatchlistSpec("w", query=query)])
    return [a.key for a in articles if matcher.match(a.fields())]


def searched(store: Store, query: str) -> list[str]:
    return [found.article.url or "" for found in search(Archive(store), query)]


@pytest.mark.parametrize("query", QUERIES)
def test_search_equals_what_a_watchlist_would_hit(
    corpus_store: tuple[Store, list[Article]], query: str
) -> None:
    store, articles = corpus_store
    assert searched(store, query) == brute_force(query, articles)  # same articles, newest first


def test_the_index_narrows_selective_queries(corpus_store: tuple[Store, list[Article]]) -> None:
    store, articles = corpus_store
    archive = Archive(store)
    spec = WatchlistSpec("w", query='"White House" NEAR/10 Trump')
    narrowing = narrow_watchlist(spec)
    assert narrowing is not None
    candidates = archive.candidate_ids(narrowing)
    hits = brute_force(spec.query or "", articles)
    assert hits and len(hits) <= len(candidates) < len(articles) / 2


def test_clauses_that_cannot_be_narrowed_scan_everything() -> None:
    for query in ("NOT football", "football OR NOT rugby", "url:news", "feed:wire", "a OR feed:wire"):
        assert narrow_watchlist(WatchlistSpec("w", query=query)) is None
    assert narrow_watchlist(WatchlistSpec("w", terms=("Wescam",), query="NOT hockey")) is None
    assert narrow_watchlist(WatchlistSpec("w", query="lang:tr OR Wescam")) is None
    # NOT inside an AND leaves the other side to narrow; a prefix inside a phrase cuts the phrase.
    exact = {"stem": False}
    assert narrow_watchlist(WatchlistSpec("w", query="Wescam -hockey", **exact)) == Term(("wescam",))
    assert narrow_watchlist(WatchlistSpec("w", terms=("export* permits",), **exact)) == AllOf(
        (Term(("export",), prefix=True), Term(("permits",)))
    )


def test_words_with_forms_narrow_by_the_letters_all_their_forms_begin_with() -> None:
    # With stem on (the default) a word is found in its inflected forms: the index is asked for the first
    # letters they all share (over every stem language), and a phrase is cut after each such word.
    assert narrow_watchlist(WatchlistSpec("w", query="Wescam -hockey")) == Term(("wesc",), prefix=True)
    assert narrow_watchlist(WatchlistSpec("w", terms=("export permits",), languages=("en",))) == AllOf(
        (Term(("expor",), prefix=True), Term(("permi",), prefix=True))
    )
    # '=' keeps a word exact, and codes with digits have no forms.
    assert narrow_watchlist(WatchlistSpec("w", terms=("=Wescam", "tb2"))) == AnyOf(
        (Term(("wescam",)), Term(("tb2",)))
    )
    # An alias is any of its forms.
    aliases = {"us": ("USA", "United States")}
    assert narrow_watchlist(WatchlistSpec("w", terms=("@us",), stem=False), aliases) == AnyOf(
        (Term(("usa",)), Term(("united", "states")))
    )


ALIASES = {"us": ("United States", "America", "USA"), "uk": ("Britain", "United Kingdom", "UK")}
ALIAS_QUERIES = [
    "@us AND trade",
    "@uk NEAR/10 vote",
    "(@us OR @uk) AND elections",
    "minister NEAR/5 resigned",
    "lang:en AND police",
    "lang:ru OR lang:tr",
]


@pytest.mark.parametrize("query", ALIAS_QUERIES)
def test_search_with_aliases_and_word_forms_equals_the_watchlist(
    corpus_store: tuple[Store, list[Article]], query: str
) -> None:
    store, articles = corpus_store
    matcher = compile_watchlists([WatchlistSpec("w", query=query)], ALIASES)
    expected = [a.key for a in articles if matcher.match(a.fields())]
    found = [f.article.url or "" for f in search(Archive(store), query, aliases=ALIASES)]
    assert found == expected


def test_index_queries_in_both_dialects() -> None:
    query = AnyOf((Term(("white", "house")), AllOf((Term(("permit",), ("title",), True), Term(("o'k",))))))
    assert (
        fts5_query(query)
        == '({title summary body} : "white house" OR (title : "permit" * AND {title summary body} : "o\'k"))'
    )
    assert tsquery(query) == "(('white' & 'house') | (('permit':*) & ('o''k')))"


WORDS = st.sampled_from(
    [
        "trump",
        "police",
        "covid",
        "vaccine",
        "london",
        "minister",
        "the",
        "football",
        "said",
        "brexit",
        "court",
    ]
)


@st.composite
def queries(draw: st.DrawFn, depth: int = 2) -> str:
    if depth == 0 or draw(st.booleans()):
        word = draw(WORDS)
        form = draw(st.sampled_from(["{w}", "{w}*", '"{w} {v}"', "title:{w}", "{w} NEAR/3 {v}", "-{w}"]))
        return form.format(w=word, v=draw(WORDS))
    left, right = draw(queries(depth - 1)), draw(queries(depth - 1))
    return draw(st.sampled_from(["({a} AND {b})", "({a} OR {b})", "({a} NOT {b})"])).format(a=left, b=right)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries())
def test_search_equals_watchlist_for_generated_queries(
    corpus_store: tuple[Store, list[Article]], query: str
) -> None:
    store, articles = corpus_store
    assert searched(store, query) == brute_force(query, articles)


def test_search_filters_by_date_feed_and_limit(corpus_store: tuple[Store, list[Article]]) -> None:
    store, articles = corpus_store
    archive = Archive(store)
    everything = search(archive, "said")
    since = T0 - (T0 - articles[100].published)
    recent = search(archive, "said", since=since)
    assert recent and all(f.article.published >= since for f in recent)
    assert len(recent) < len(everything)
    assert {f.article.feed for f in search(archive, "said", feed="daily")} == {"daily"}
    assert len(search(archive, "said", limit=3)) == 3
    assert search(archive, "said", language="en") == []  # no article carries a language yet


def test_articles_stored_before_the_index_are_indexed_by_the_migration(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_store_engine(url)
    config = alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO articles (key, feed, url, title, summary, text, published_at, first_seen_at) "
                "VALUES ('k1', 'wire', 'https://x/1', 'Old news', '', 'Wescam sensors on Bayraktar drones', "
                "'2026-10-01 00:00:00', '2026-10-01 00:00:00')"
            )
        )
    engine.dispose()
    store = Store.open(url)  # migrates to the newest schema
    try:
        archive = Archive(store)
        assert archive.candidate_ids(Term(("bayraktar",))) == [1]
        assert [f.article.title for f in search(archive, "Wescam NEAR/3 Bayraktar")] == ["Old news"]
    finally:
        store.close()


def test_cli_search_json_lines_and_query_errors(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    store = Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")
    fill(store, list(corpus_articles(60, start=T0.replace(year=2030))))
    store.close()
    result = run_cli(config, "search", "police OR court", "--since", "3650d", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json_lines(result.stdout)
    assert rows
    assert list(rows[0]) == ["url", "title", "feed", "published", "language", "story", "matched", "snippet"]
    assert rows[0]["language"] is None  # these stored articles carry no detected language
    assert all(isinstance(row["story"], int) for row in rows)  # every stored article belongs to a story
    csv = run_cli(config, "search", "police", "--since", "3650d", "--format", "csv", "--limit", "2")
    assert csv.stdout.splitlines()[0] == "url,title,feed,published,language,story,matched,snippet"
    assert len(csv.stdout.splitlines()) == 3
    bad = run_cli(config, "search", "police AND (court")
    assert bad.returncode == 2
    assert "query:18: expected ')'" in bad.stderr
