"""Answers kept between requests: many readers refresh the same inbox and ask for the same API page, and the
answer stays the same until the database changes. Every entry is dropped as soon as anything is committed to
the database, by this process or any other (a triage mark, a note, the daemon's new hit): SQLite's
``PRAGMA data_version``, read on a connection of the cache's own that never writes, changes with every commit
of another connection. A reloaded config drops the entries too. Bounded in entries and in bytes.

Only SQLite databases get a cache (PostgreSQL has no such cheap marker); elsewhere every request is answered
afresh. What differs between sessions (the CSRF token) is never stored: pages are kept with a placeholder in
its place (``CSRF_PLACEHOLDER``), which each answer replaces with the session's own token."""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path

from sqlalchemy import Engine

MAX_ENTRIES = 64
MAX_BYTES = 32 * 1024 * 1024
Stamp = tuple[int, object] | None  # the database's change marker and the config an entry was made under
CSRF_PLACEHOLDER = "csrf-" + secrets.token_hex(16)  # letters and digits only: escaping leaves it as it is


class ChangeMarker:
    """A number that changes whenever a commit reaches the SQLite database at ``path``."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=5.0)

    def current(self) -> int:
        with self._lock:
            row = self._conn.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def marker_for(engine: Engine) -> ChangeMarker | None:
    """The change marker of a SQLite file database, or None (another database, or one in memory)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return ChangeMarker(Path(database))


class ResponseCache:
    """Bodies of answers by key, valid while the database and the config stay as they were."""

    def __init__(
        self, marker: ChangeMarker | None, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES
    ) -> None:
        self.marker = marker
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._version: int | None = None
        self._config: object = None

    def answer(self, key: Hashable, config: object, make: Callable[[], bytes]) -> bytes:
        """The body kept for ``key``, else ``make()`` (kept for the next request)."""
        body, stamp = self.kept(key, config)
        if body is None:
            body = make()
            self.keep(key, stamp, body)
        return body

    def kept(self, key: Hashable, config: object) -> tuple[bytes | None, Stamp]:
        """The body kept for ``key`` (None when there is none), and the stamp to keep a fresh one with."""
        if self.marker is None:
            return None, None
        try:
            version = self.marker.current()  # read before the data: a commit after it drops what is made now
        except (
            sqlite3.Error
        ):  # the marker cannot tell (the file is busy or gone): answer afresh, keep nothing
            return None, None
        with self._lock:
            if version != self._version or config is not self._config:
                self._clear(version, config)
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
        return body, (version, config)

    def keep(self, key: Hashable, stamp: Stamp, body: bytes) -> None:
        """Keep ``body`` for ``key``, unless the database or the config changed since ``stamp`` was taken."""
        if stamp is None or len(body) > self.max_bytes // 4:
            return
        version, config = stamp
        with self._lock:
            if version != self._version or config is not self._config or key in self._entries:
                return
            self._entries[key] = body
            self._bytes += len(body)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Bytes kept."""
        return self._bytes

    def _clear(self, version: int, config: object) -> None:
        self._entries.clear()
        self._bytes = 0
        self._version = version
        self._config = config

    def close(self) -> None:
        if self.marker is not None:
            self.marker.close()
