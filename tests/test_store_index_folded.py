"""The search index takes an article's words from the fields the matcher folded when it matched the article
(carried on the Finding), and folds itself a field it is given without them: either way the index holds exactly
what folding the stored texts gives, on real news text in many scripts."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.match import compile_watchlists
from monitor.match.fold import fold_words
from monitor.models import Article, Finding, WatchlistSpec
from monitor.store import Store
from monitor.store.index import SearchIndex
from tests.archive_corpus import T0, corpus_articles, sentence_articles

ARTICLES = 400
# Texts at the edges of folding: empty, spaces only, runs folding into several words or none, a dotted capital
# I that changes length when lower-cased, underscores, marks, common non-ASCII punctuation.
EDGES = (
    "",
    "   ",
    "½ and ¼",
    "İSTANBUL İzmir",
    "snake_case__x",
    "e\u0301te\u0301",
    "L3Harris WESCAM’s — “x”",
    "\u200b",
)


def real_articles() -> list[Article]:
    articles = list(corpus_articles(ARTICLES))
    articles += sentence_articles(("ru", "hy", "tr", "de", "az"), 10)
    articles += [
        dataclasses.replace(articles[0], key=f"edge-{n}", title=edge, summary=edge[::-1], text=edge * 3)
        for n, edge in enumerate(EDGES)
    ]
    return articles


@pytest.fixture(scope="module")
def folded_by_matching() -> list[tuple[Article, Mapping[str, str]]]:
    matcher = compile_watchlists([WatchlistSpec("w", terms=("election", "Trump"))])
    return [(article, matcher.match_folded(article.fields())[1]) for article in real_articles()]


def row(article: Article) -> tuple[int, str, str, str]:
    return 7, article.title, article.summary, article.text


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_index_document_from_the_matchers_folded_fields_is_the_one_folding_gives(
    folded_by_matching: list[tuple[Article, Mapping[str, str]]], dialect: str
) -> None:
    index = SearchIndex(dialect)
    assert index.takes_folded
    for article, folded in folded_by_matching:
        assert index._document(*row(article), folded) == index._document(*row(article)), article.key
        if dialect == "sqlite":
            assert index._document(*row(article), folded)[1:] == tuple(
                " ".join(fold_words(field)) for field in (article.title, article.summary, article.text)
            )


def test_the_matcher_gives_its_fields_as_it_folded_them_and_matches_the_same(
    folded_by_matching: list[tuple[Article, Mapping[str, str]]],
) -> None:
    matcher = compile_watchlists([WatchlistSpec("w", terms=("election", "Trump"))])
    hits = 0
    for article, folded in folded_by_matching:
        matches, _ = matcher.match_folded(article.fields())
        assert matches == matcher.match(article.fields())
        hits += bool(matches)
        assert folded == {
            name: " " + " ".join(fold_words(article.fields()[name])) + " "
            for name in ("title", "summary", "body")
        }
    assert hits > 10


def test_a_field_the_matcher_folded_is_taken_as_given_and_one_it_did_not_is_folded() -> None:
    """(The words given here are not those of the text: where they show, they were taken.)"""
    given = {"title": " taken as given ", "body": "  "}
    document = SearchIndex("sqlite")._document(
        7, "Élection à Paris", "The summary, as stored", "Body_text", given
    )
    assert document == (7, "taken as given", "the summary as stored", "")
    postgresql = SearchIndex("postgresql")._document(7, "Élection à Paris", "", "Body_text", given)
    assert postgresql == (7, "'as' 'given' 'taken'")


def test_an_index_given_its_own_folding_never_takes_the_matchers() -> None:
    index = SearchIndex("sqlite", lambda field: field.split())
    assert not index.takes_folded
    document = index._document(7, "Élection à Paris", "", "", {"title": " taken as given "})
    assert document == (7, "Élection à Paris", "", "")
    assert SearchIndex("sqlite").takes_folded


def index_terms(store: Store) -> list[tuple[object, ...]]:
    """Every (word, article, field, place) the FTS5 index holds."""
    with store.engine.begin() as conn:
        conn.execute(text("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, article_index, instance)"))
        found = conn.execute(
            text('SELECT term, doc, col, "offset" FROM temp.terms ORDER BY 1, 2, 3, 4')
        ).all()
        conn.execute(text("DROP TABLE temp.terms"))
    return [tuple(item) for item in found]


def test_stored_findings_index_the_same_words_with_or_without_the_matchers_fields(
    tmp_path: Path, folded_by_matching: list[tuple[Article, Mapping[str, str]]]
) -> None:
    carried = Store.open(f"sqlite:///{tmp_path / 'carried.db'}")
    folded_here = Store.open(f"sqlite:///{tmp_path / 'folded.db'}")
    carried.save_articles([Finding(a, (), False, folded=f) for a, f in folded_by_matching], {}, now=T0)
    folded_here.save_articles([Finding(a, (), False) for a, _ in folded_by_matching], {}, now=T0)
    terms = index_terms(carried)
    assert len(terms) > 100_000
    assert terms == index_terms(folded_here)
    # The contentless index forgets an article told the words it holds: folded here, they are the same.
    with carried.engine.begin() as conn:
        carried.index.remove(conn, [(n + 1, *row(a)[1:]) for n, (a, _) in enumerate(folded_by_matching)])
    assert index_terms(carried) == []


def test_a_word_at_the_lexeme_limit_is_indexed_and_a_longer_one_is_not() -> None:
    from monitor.store.index import MAX_LEXEME_BYTES, MAX_TSVECTOR_BYTES, _tsvector, indexable_word

    at_limit, over = "a" * MAX_LEXEME_BYTES, "b" * (MAX_LEXEME_BYTES + 1)
    assert indexable_word(at_limit) and not indexable_word(over)
    assert indexable_word("é" * (MAX_LEXEME_BYTES // 2)) and not indexable_word(
        "é" * (MAX_LEXEME_BYTES // 2 + 1)
    )
    assert _tsvector([over, at_limit, "drone"]) == f"'{at_limit}' 'drone'"
    # a whole vector at its limit is kept, one byte more is refused (such an article is always a candidate)
    words = [
        f"{n:05d}" + "z" * (MAX_LEXEME_BYTES - 5) for n in range(MAX_TSVECTOR_BYTES // (MAX_LEXEME_BYTES + 3))
    ]
    base = _tsvector(words)
    assert base is not None
    rest = MAX_TSVECTOR_BYTES - len(base.encode()) - len(" ''")
    assert 0 < rest <= MAX_LEXEME_BYTES
    exact = _tsvector([*words, "~" * rest])
    assert exact is not None and len(exact.encode()) == MAX_TSVECTOR_BYTES
    assert _tsvector([*words, "~" * (rest + 1)]) is None
