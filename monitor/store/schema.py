"""Which schema revision is the newest, read from the migration files' text, and whether a SQLite database can
be opened and is at it, with the standard library's sqlite3: `monitor check` answers without loading SQLAlchemy
or Alembic. Nothing here imports either.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

_REVISION = re.compile(r"^revision(?:\s*:\s*str)?\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=(.*)$", re.MULTILINE)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")
# sqlite:///relative/path or sqlite:////absolute/path, without a query string: what this module opens itself.
# Any other SQLite URL (another driver, options after "?") is left to SQLAlchemy.
_PLAIN_SQLITE = re.compile(r"^sqlite(?:\+pysqlite)?:///(?P<path>[^?#]+)$")


@dataclass(frozen=True, slots=True)
class Revisions:
    """The revisions the migration files define, and the newest (None when the files do not name one)."""

    known: frozenset[str]
    head: str | None


def read_revisions(versions: Path = MIGRATIONS / "versions") -> Revisions:
    """The migration files' revisions, read from their text. The head is the one revision no file builds on;
    None when there are several, or a file this reading does not understand: then Alembic decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    understood = True
    for path in versions.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is None or down is None:
            understood = False
            continue
        revisions.add(revision.group(1))
        parents.update(_QUOTED.findall(down.group(1)))
    heads = revisions - parents
    head = heads.pop() if understood and len(heads) == 1 else None
    return Revisions(frozenset(revisions), head)


def head_revision(versions: Path = MIGRATIONS / "versions") -> str | None:
    """The one revision no migration file builds on, read from the files' text; None if that is not one."""
    return read_revisions(versions).head


def schema_state(versions: list[str], revisions: Revisions) -> str:
    """How a database's ``alembic_version`` rows compare with the migration files, in words for `check`."""
    if versions == [revisions.head]:
        return "opened and writable"
    if not versions:
        return "opened and writable; no tables yet, the first poll creates them"
    if len(versions) == 1 and versions[0] in revisions.known:
        return f"opened and writable; at schema {versions[0]}, the next poll migrates it to {revisions.head}"
    return f"opened and writable; at schema {', '.join(versions)}, which these migration files do not lead to"


def plain_sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL (as SQLAlchemy reads it); None for any other URL."""
    found = _PLAIN_SQLITE.match(url)
    if found is None or unquote(found["path"]) == ":memory:":
        return None
    return Path(unquote(found["path"]))


def folder_problem(path: Path) -> str | None:
    """For a SQLite file that does not exist yet: why it could not be created, or None when it could."""
    if path.exists():
        return None
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    return None


def sqlite_versions(path: Path) -> list[str]:
    """Open an existing SQLite file as the store does, check that it can be written (a write transaction
    that is rolled back) and return its ``alembic_version`` rows (none for an empty database).
    Raises sqlite3.Error or OSError."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute("CREATE TABLE monitor_write_probe (x INTEGER)")
        finally:
            connection.execute("ROLLBACK")
        exists = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if exists is None:
            return []
        return [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    finally:
        connection.close()


_HINTS = {
    "attempt to write a readonly database": "the database file, its folder or its disk is read-only",
    "unable to open database file": "check that its folder exists and is writable",
}


def describe_failure(exc: BaseException) -> str:
    """One line naming why a database could not be opened: no SQL, no traceback, no documentation link."""
    if isinstance(exc, ImportError):
        return f"its driver is not installed (no module named {exc.name!r})" if exc.name else str(exc)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    cause = _driver_error(exc) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    hint = next((h for text_, h in _HINTS.items() if text_ in first), None)
    return f"{first} ({hint})" if hint else first


def _driver_error(exc: BaseException) -> BaseException | None:
    """The database driver's own error inside a SQLAlchemy one (which can only exist once SQLAlchemy is loaded)."""
    if "sqlalchemy.exc" not in sys.modules:
        return None
    from sqlalchemy.exc import DBAPIError

    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else None
