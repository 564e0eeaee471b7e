"""One daemon per database: an exclusive lock on a file beside the SQLite database, released by the kernel
even when the process dies, plus a row in the database saying which process holds it."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from monitor.errors import AlreadyRunningError


class DaemonLock:
    def __init__(self, database_url: str) -> None:
        self.path = lock_path(database_url)
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        if self.path is None:
            return  # a server database: the daemon table is the record (see `monitor status`)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise AlreadyRunningError(
                f"another monitor daemon (pid {holder}) is already running on {self.path.with_suffix('')}; "
                "stop it first (`monitor status` shows it)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing drops the lock
            self._handle = None


def lock_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + ".lock")
