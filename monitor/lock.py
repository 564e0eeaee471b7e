"""One daemon per database. SQLite: an exclusive lock on a file beside the database, released by the kernel even
when the process dies. PostgreSQL: a session advisory lock on a connection kept for the daemon's life, released
by the server when that connection closes (or the process dies). The ``daemon`` table says who holds it."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from monitor.errors import AlreadyRunningError, StoreError
from monitor.redact import mask_url
from monitor.store import DaemonRecord
from monitor.store.engine import describe_failure

ADVISORY_KEY = 0x6D6F6E69746F72  # "monitor": advisory locks are per database, so one key is enough


class DaemonLock:
    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.path = lock_path(database_url)
        self._handle: IO[str] | None = None
        self._conn: Connection | None = None

    def acquire(self) -> None:
        if make_url(self.url).get_backend_name() == "postgresql":
            self._acquire_advisory()
            return
        if self.path is None:
            return  # another server database: the daemon table is the record (see `monitor status`)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise StoreError(
                f"cannot open database {mask_url(self.url)}: cannot create its lock file: "
                f"{describe_failure(exc)}"
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise _already_running(f"pid {holder}", str(self.path.with_suffix(""))) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def _acquire_advisory(self) -> None:
        try:
            engine = create_engine(self.url, poolclass=NullPool)
            conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        except (SQLAlchemyError, ImportError) as exc:
            raise StoreError(f"cannot open database {mask_url(self.url)}: {describe_failure(exc)}") from None
        if got:
            self._conn = conn
            return
        conn.close()
        try:
            row = DaemonRecord(engine).read()
        except SQLAlchemyError:
            row = None  # the first daemon is still creating the tables
        holder = f"pid {row.pid} on {row.hostname}" if row else "pid unknown"
        raise _already_running(holder, mask_url(self.url))

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing drops the lock
            self._handle = None
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):  # a lost connection has lost its lock already
                self._conn.close()  # the server drops a session's advisory locks with the session
            self._conn = None


def _already_running(holder: str, where: str) -> AlreadyRunningError:
    return AlreadyRunningError(
        f"another monitor daemon ({holder}) is already running on {where}; stop it first "
        "(`monitor status` shows it)"
    )


def lock_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + ".lock")


def process_alive(pid: int, hostname: str) -> bool:
    """Whether the process that wrote a daemon record still runs. On another host it cannot be checked from
    here: it is taken to be alive."""
    if hostname != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
