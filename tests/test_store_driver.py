"""Statements run through the driver's own cursor (monitor.store.driver) write what SQLAlchemy writes, on
SQLite and on PostgreSQL: the same stored values, whatever the order of their parameters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from monitor.errors import StoreError
from monitor.store import Store
from monitor.store.driver import DriverStatement, driver_statement
from monitor.store.engine import sqlite_missing
from monitor.store.findings import insert_ignore
from monitor.store.tables import articles, feeds

T0 = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
STORED = ("url", "etag", "last_polled_at", "consecutive_failures", "entries_seen", "gone", "failed_digest")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path}/store.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    store = Store.open(url)
    yield store.engine
    store.close()


def stored(engine: Engine, name: str) -> tuple[Any, ...]:
    """The feed's row as the database holds it, read through the driver (no SQLAlchemy type conversion)."""
    with engine.connect() as conn:
        mark = "?" if engine.dialect.name == "sqlite" else "%s"
        cursor = conn.connection.cursor()
        cursor.execute(f"SELECT {', '.join(STORED)} FROM feeds WHERE name = {mark}", (name,))
        row = cursor.fetchone()
        cursor.close()
    assert row is not None
    return tuple(row)


def test_a_row_written_through_the_driver_is_stored_as_sqlalchemy_stores_it(engine: Engine) -> None:
    # Times in another zone, a boolean and a NUL (dropped on PostgreSQL only): each value goes through its
    # column type's conversion.
    values = {
        "url": "https://news.example/feed\x00.xml",
        "etag": None,
        "last_polled_at": T0.astimezone(timezone(timedelta(hours=2))),
        "consecutive_failures": 3,
        "entries_seen": 0,
        "gone": True,
        "failed_digest": "ab" * 32,
    }
    names = (
        "gone",
        "failed_digest",
        "name",
        "consecutive_failures",
        "url",
        "etag",
        "last_polled_at",
        "entries_seen",
    )
    statement = DriverStatement(
        insert(feeds).values({name: bindparam(name) for name in names}), names, engine.dialect
    )
    with engine.begin() as conn:
        conn.execute(insert(feeds), {"name": "by-sqlalchemy", **values})
        statement.execute(conn, [{"name": "by-driver", **values}[name] for name in names])
    assert stored(engine, "by-driver") == stored(engine, "by-sqlalchemy")
    kept_nul = "\x00" in stored(engine, "by-driver")[0]
    assert kept_nul == (engine.dialect.name == "sqlite")  # PostgreSQL text refuses NUL; SQLite keeps it


def test_parameters_follow_the_markers_of_the_sql_whatever_order_they_are_given_in(engine: Engine) -> None:
    # The SET clause lists the columns in the table's order, not in the order of the names given.
    names = ("gone", "consecutive_failures", "b_name")
    statement = DriverStatement(
        update(feeds)
        .where(feeds.c.name == bindparam("b_name"))
        .values(gone=bindparam("gone"), consecutive_failures=bindparam("consecutive_failures")),
        names,
        engine.dialect,
    )
    with engine.begin() as conn:
        conn.execute(insert(feeds), [{"name": "a", "url": "u"}, {"name": "b", "url": "u"}])
        statement.executemany(conn, [(True, 7, "a"), (False, 2, "b")])
    with engine.connect() as conn:
        rows = conn.execute(select(feeds.c.name, feeds.c.gone, feeds.c.consecutive_failures).order_by("name"))
        assert [tuple(row) for row in rows] == [("a", True, 7), ("b", False, 2)]


def test_execute_each_gives_back_the_rows_of_every_row_run(engine: Engine) -> None:
    # RETURNING with ON CONFLICT DO NOTHING: a key stored already (here in the same call) gives nothing back.
    names = ("key", "feed", "title", "summary", "text", "published_at", "first_seen_at")

    def build() -> tuple[Any, tuple[str, ...]]:
        statement = (
            insert_ignore(articles, engine.dialect.name)
            .values({name: bindparam(name) for name in names})
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(articles.c.id, articles.c.key)
        )
        return statement, names

    statement = driver_statement("test insert articles", engine.dialect, build)
    with engine.begin() as conn:
        assert statement.execute_each(conn, []) == []
        rows = statement.execute_each(
            conn, [(key, "wire", "", "", "", T0, T0) for key in ("k1", "k2", "k1", "k3")]
        )
    assert [key for _, key in rows] == ["k1", "k2", "k3"]
    assert len({article_id for article_id, _ in rows}) == 3
    with engine.connect() as conn:
        assert conn.execute(select(articles.c.published_at)).scalars().all() == [T0] * 3


def test_a_statement_with_a_parameter_not_given_is_refused() -> None:
    # An INSERT leaving out a column that has a default (entries_seen) would need SQLAlchemy to supply it.
    names = ("name", "url", "consecutive_failures", "gone")
    clause = insert(feeds).values({name: bindparam(name) for name in names})
    with pytest.raises(ValueError, match="parameters not given: entries_seen"):
        DriverStatement(clause, names, sqlite.dialect())
    DriverStatement(clause, (*names, "entries_seen"), sqlite.dialect())


def test_parameters_are_a_sequence_for_sqlite_and_a_mapping_by_name_for_psycopg() -> None:
    names = ("b_name", "gone")
    clause = update(feeds).where(feeds.c.name == bindparam("b_name")).values(gone=bindparam("gone"))
    assert DriverStatement(clause, names, sqlite.dialect()).parameters(("a", True)) == [1, "a"]
    by_name = DriverStatement(clause, names, postgresql.psycopg.dialect()).parameters(("a", True))
    assert by_name == {"b_name": "a", "gone": True}


def test_a_sqlite_file_in_folders_not_made_yet_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "monitor.db"
    store = Store.open(f"sqlite:///{path}")
    try:
        assert path.is_file()
    finally:
        store.close()


def test_a_database_opened_read_only_is_refused_when_opened_not_at_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    Store.open(f"sqlite:///{path}").close()  # made, at the newest schema: nothing left to migrate
    with pytest.raises(StoreError, match="readonly"):
        Store.open(f"sqlite:///file:{path}?mode=ro&uri=true")


def test_only_a_sqlite_file_not_made_yet_is_missing(tmp_path: Path) -> None:
    made = tmp_path / "made.db"
    Store.open(f"sqlite:///{made}").close()
    assert sqlite_missing(f"sqlite:///{tmp_path / 'absent.db'}")
    assert not sqlite_missing(f"sqlite:///{made}")
    assert not sqlite_missing("sqlite:///:memory:")
    assert not sqlite_missing("sqlite://")
    assert not sqlite_missing("postgresql://root@127.0.0.1/absent")
