"""The full-text index of stored articles: SQLite FTS5 or a PostgreSQL ``tsvector`` with a GIN index.

Both index the words exactly as the matcher cuts and folds them (the ``words`` function given to the store),
so a word the matcher sees is a word the index has. The index only narrows: a search asks it for the articles
that may match (an ``IndexQuery`` of required words and phrases) and the matcher decides on each of them.

- SQLite: a contentless FTS5 table ``article_index(title, summary, body)`` whose rowid is the article id,
  holding the folded words of each field separated by spaces (phrases and prefixes are answered by FTS5
  itself). Its ``ascii`` tokenizer cuts only at ASCII separators and takes every other character as part of a
  word, so each folded word (letters and digits, lower case) is exactly one token, in any script.
- PostgreSQL: a table ``article_index(article_id, words tsvector)`` holding the distinct folded words of the
  article as lexemes, written and queried as literals so PostgreSQL's parser never re-cuts them. Phrases are
  asked as all of their words (the matcher checks their order).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from monitor.store.driver import DriverStatement, driver_statement

Words = Callable[[str], list[str]]
INDEXED_FIELDS = ("title", "summary", "body")
MAX_LEXEME_BYTES = 2000  # PostgreSQL refuses lexemes of 2 KB and more
MAX_TSVECTOR_BYTES = (
    900_000  # and tsvectors of 1 MB: such an article is kept without words, always a candidate
)


# --- what to ask the index -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """Folded words that occur one after the other in one of ``fields``; the last may be a prefix."""

    words: tuple[str, ...]
    fields: tuple[str, ...] = INDEXED_FIELDS
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class AllOf:
    children: tuple[IndexQuery, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    children: tuple[IndexQuery, ...]


IndexQuery = Term | AllOf | AnyOf


def fts5_query(query: IndexQuery) -> str:
    """The FTS5 MATCH expression of ``query``."""
    if isinstance(query, Term):
        phrase = '"' + " ".join(query.words) + '"' + (" *" if query.prefix else "")
        columns = " ".join(query.fields)
        return f"{{{columns}}} : {phrase}" if len(query.fields) > 1 else f"{columns} : {phrase}"
    joiner = " AND " if isinstance(query, AllOf) else " OR "
    return "(" + joiner.join(fts5_query(child) for child in query.children) + ")"


def tsquery(query: IndexQuery) -> str:
    """The PostgreSQL tsquery literal of ``query``: every word of a phrase, fields ignored (a superset)."""
    if isinstance(query, Term):
        lexemes = [_lexeme(word) for word in query.words]
        if query.prefix:
            lexemes[-1] += ":*"
        return "(" + " & ".join(lexemes) + ")"
    joiner = " & " if isinstance(query, AllOf) else " | "
    return "(" + joiner.join(tsquery(child) for child in query.children) + ")"


def indexable_word(word: str) -> bool:
    """Whether both index kinds keep ``word`` whole: PostgreSQL limits a lexeme's length (FTS5's ``ascii``
    tokenizer keeps every folded word as it is). A query with a longer word is not narrowed."""
    return len(word.encode()) <= MAX_LEXEME_BYTES


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


# --- the index itself ------------------------------------------------------------------------------------


class SearchIndex:
    """Writes and queries the index of one database; every call joins the caller's transaction.

    ``words`` cuts and folds a field's text; by default the matcher's folding, and then a field the matcher has
    already folded (``add_folded``) is taken as it folded it rather than folded again."""

    def __init__(self, dialect: str, words: Words | None = None) -> None:
        self.dialect = dialect
        self.words = words or default_words()
        self.takes_folded = words is None

    def add(self, conn: Connection, rows: Iterable[tuple[int, str, str, str]]) -> None:
        """Index articles given as (id, title, summary, text)."""
        self.add_folded(conn, [(*row, None) for row in rows])

    def add_folded(
        self, conn: Connection, rows: Iterable[tuple[int, str, str, str, Mapping[str, str] | None]]
    ) -> None:
        """Index articles given as (id, title, summary, text, the matcher's folded fields by name or None: see
        ``Finding.folded``)."""
        sql = _ADD_POSTGRESQL if self.dialect == "postgresql" else _ADD_SQLITE
        _statement(conn, "add", sql).executemany(conn, [self._document(*row) for row in rows])

    def remove(self, conn: Connection, rows: Iterable[tuple[int, str, str, str]]) -> None:
        """Drop articles from the index, given as they were indexed: (id, title, summary, text)."""
        if self.dialect == "postgresql":
            _statement(conn, "remove", _REMOVE_POSTGRESQL).executemany(conn, [(row[0],) for row in rows])
            return
        # A contentless FTS5 table forgets a row when told the values it indexed.
        _statement(conn, "remove", _REMOVE_SQLITE).executemany(conn, [self._document(*row) for row in rows])

    def matching_ids(self, conn: Connection, query: IndexQuery) -> set[int]:
        """The ids of the articles the index cannot rule out for ``query``."""
        if self.dialect == "postgresql":
            statement = text(
                "SELECT article_id FROM article_index WHERE words IS NULL OR words @@ CAST(:q AS tsquery)"
            )
            return set(conn.scalars(statement, {"q": tsquery(query)}))
        statement = text("SELECT rowid FROM article_index WHERE article_index MATCH :q")
        return set(conn.scalars(statement, {"q": fts5_query(query)}))

    def _document(
        self,
        article_id: int,
        title: str,
        summary: str,
        body: str,
        folded: Mapping[str, str] | None = None,
    ) -> tuple[Any, ...]:
        """The row the index is given: (id, words) on PostgreSQL, (id, title, summary, body) on SQLite."""
        if folded is None or not self.takes_folded:
            folded = _NOTHING_FOLDED
        texts = (
            self._joined_words(title, folded.get("title")),
            self._joined_words(summary, folded.get("summary")),
            self._joined_words(body, folded.get("body")),
        )
        if self.dialect == "postgresql":
            return article_id, _tsvector(w for joined in texts for w in joined.split())
        return article_id, *texts

    def _joined_words(self, text: str, folded: str | None) -> str:
        """The folded words of ``text`` separated by single spaces: ``folded``, the matcher's, less the space at
        each end, when given; else folded here."""
        if folded is not None:
            return folded[1:-1]
        return " ".join(self.words(text))


_NOTHING_FOLDED: Mapping[str, str] = {}


_ADD_POSTGRESQL = (
    "INSERT INTO article_index (article_id, words) VALUES (:id, CAST(:words AS tsvector)) "
    "ON CONFLICT (article_id) DO UPDATE SET words = EXCLUDED.words"
)
_ADD_SQLITE = "INSERT INTO article_index (rowid, title, summary, body) VALUES (:id, :title, :summary, :body)"
_REMOVE_POSTGRESQL = "DELETE FROM article_index WHERE article_id = :id"
_REMOVE_SQLITE = (
    "INSERT INTO article_index (article_index, rowid, title, summary, body) "
    "VALUES ('delete', :id, :title, :summary, :body)"
)


def _statement(conn: Connection, what: str, sql: str) -> DriverStatement:
    """One of the statements above, compiled once per dialect: its parameters are in the order they appear."""
    return driver_statement(
        ("article_index", what), conn.dialect, lambda: (text(sql), tuple(re.findall(r":(\w+)", sql)))
    )


def _tsvector(words: Iterable[str]) -> str | None:
    literal = " ".join(_lexeme(w) for w in sorted(set(words)) if len(w.encode()) <= MAX_LEXEME_BYTES)
    return None if len(literal.encode()) > MAX_TSVECTOR_BYTES else literal


def default_words() -> Words:
    """The matcher's own word folding: the index must cut words exactly as the matcher does, so this is the
    store's one use of the matching stage (imported at the first article indexed, so that a command that only
    reads the store does not load the matcher)."""

    def words(text: str) -> list[str]:
        from monitor.match.fold import fold_words

        return fold_words(text)

    return words


def create_statements(dialect: str) -> Sequence[str]:
    """DDL of the index, used by the migration."""
    if dialect == "postgresql":
        return (
            "CREATE TABLE article_index (article_id INTEGER PRIMARY KEY "
            "REFERENCES articles (id) ON DELETE CASCADE, words TSVECTOR)",
            "CREATE INDEX ix_article_index_words ON article_index USING GIN (words)",
        )
    return (
        "CREATE VIRTUAL TABLE article_index USING fts5(title, summary, body, content='', tokenize='ascii')",
    )
