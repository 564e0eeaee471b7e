"""Engine set-up (SQLite pragmas, immediate write transactions) and schema migrations."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from monitor.errors import StoreError
from monitor.redact import mask_url, redact
from monitor.store.schema import MIGRATIONS as MIGRATIONS  # re-exported: the migrations and their reading
from monitor.store.schema import describe_failure as describe_failure
from monitor.store.schema import folder_problem
from monitor.store.schema import head_revision as head_revision

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATION_LOCK = 0x6D6F6E69746F7201  # PostgreSQL advisory lock key: one process migrates at a time
# WAL pages a commit lets gather before it copies them back into the database file (SQLite's default is 1,000,
# 4 MB). A poll's inserts into the hash-keyed indexes (story bands, the search index) dirty a few hundred pages
# spread over the whole index, so with the default every third or fourth poll's commit copied a thousand pages
# back, most of them dirtied again at once. Ten times as many (a WAL of up to 40 MB, truncated by the
# housekeeping) copies each page once for many polls.
WAL_AUTOCHECKPOINT_PAGES = 10_000


def create_store_engine(url: str) -> Engine:
    """An engine whose SQLite connections use WAL and start every transaction with BEGIN IMMEDIATE.

    Immediate transactions take the write lock up front, so a read-then-write never fails half-way with
    "database is locked" when another process (a `monitor poll` beside the daemon) wrote in between.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN itself
    cursor = dbapi_connection.cursor()
    pragmas = ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL")
    for pragma in (*pragmas, f"wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def set_busy_timeout(engine: Engine, seconds: float) -> None:
    """How long this engine's SQLite connections wait for a lock before "database is locked" (a web request
    should give up sooner than a poll). Connections already pooled are dropped to take it."""
    if engine.dialect.name != "sqlite":
        return
    milliseconds = max(1, int(seconds * 1000))

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={milliseconds}")
        cursor.close()

    event.listen(engine, "connect", on_connect)
    engine.dispose()


READ_ONLY = "monitor_read_only"  # execution option of an engine whose transactions only read


def read_only(engine: Engine) -> Engine:
    """An engine on the same pool whose transactions only read. On SQLite they begin DEFERRED: with WAL a
    reader then never waits for the write lock, nor holds it from a writer or from other readers (every other
    transaction begins IMMEDIATE). Never write through it: a deferred transaction that reads and then writes
    fails when another process wrote in between."""
    return engine.execution_options(**{READ_ONLY: True})


def _sqlite_begin(connection: Any) -> None:
    """BEGIN, on the driver's own cursor: every transaction starts here, and SQLAlchemy's execution of the
    statement (events, a result object) cost more than the statement itself. A failure (the write lock not
    had within the busy timeout) still comes up as SQLAlchemy's error, which callers tell apart (the web
    pages' 503 while the database is locked)."""
    statement = (
        "BEGIN DEFERRED" if connection.get_execution_options().get(READ_ONLY, False) else "BEGIN IMMEDIATE"
    )
    driver_error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement)
    except driver_error as exc:
        raise DBAPIError.instance(statement, None, exc, driver_error, dialect=connection.dialect) from exc
    finally:
        cursor.close()


def alembic_config(engine: Engine) -> Config:
    """The URL travels as an attribute, never as an ini option: options go through configparser's ``%``
    interpolation, which fails on a ``%`` in a password and quotes the whole URL in its error."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = engine.url
    return config


def upgrade(engine: Engine) -> list[str]:
    """Bring the schema to the newest revision; returns the revisions applied.

    A database already at the newest revision is recognised without Alembic (reading the migration files'
    revision lines and the alembic_version table), so processes that open a current database never load it.
    """
    if _is_current(engine):
        return []
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = alembic_config(engine)
    head = ScriptDirectory.from_config(config).get_current_head()
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        if current == head:
            return []
        with engine.begin() as conn:
            # Two processes starting on an old or empty database (a poll beside the daemon) take turns: SQLite's
            # BEGIN IMMEDIATE or, on PostgreSQL, an advisory lock held until commit. The second then finds the
            # schema current.
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            current = MigrationContext.configure(conn).get_current_revision()
            if current == head:
                return []
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        url = engine.url.render_as_string(hide_password=False)
        raise StoreError(
            redact(f"cannot migrate database {mask_url(url)}: {describe_failure(exc)}", url)
        ) from None
    log.info("database migrated from %s to %s", current or "empty", head)
    return [head] if head else []


def is_current(engine: Engine) -> bool:
    """Whether the database's schema is at the newest revision (False while it is empty or behind)."""
    return _is_current(engine)


def _is_current(engine: Engine) -> bool:
    head = head_revision()
    return head is not None and schema_versions(engine) == [head]


def schema_versions(engine: Engine) -> list[str]:
    """The database's ``alembic_version`` rows; none for an empty database."""
    try:
        with read_only(engine).connect() as conn:  # a look, not a write: no waiting for the write lock
            return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:
        return []  # no version table yet: an empty database


def check_writable(engine: Engine) -> None:
    """Connect and make sure the database can be written, so that a read-only file, folder or disk is one
    clear error now instead of a failed write in the middle of a poll. Raises SQLAlchemyError."""
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            conn.execute(text("SELECT 1"))
            return
        transaction = conn.begin()
        try:
            conn.exec_driver_sql("CREATE TABLE monitor_write_probe (x INTEGER)")
        finally:
            transaction.rollback()


def _sqlite_file(url: str) -> Path | None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # not a URL SQLAlchemy reads: opening it says so
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def sqlite_missing(url: str) -> bool:
    """Whether ``url`` names a SQLite file that does not exist yet."""
    path = _sqlite_file(url)
    return path is not None and not path.exists()


def sqlite_folder_problem(url: str) -> str | None:
    """For a SQLite file that does not exist yet: why it could not be created, or None when it could."""
    path = _sqlite_file(url)
    return None if path is None else folder_problem(path)
