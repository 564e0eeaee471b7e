"""One daemon per SQLite database: an exclusive lock on a file beside the database, released by the kernel even
when the process dies. PostgreSQL takes no lock: several daemons share its database, each feed claimed through a
lease (``monitor.store.leases``); the ``daemons`` table says who runs."""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from monitor.errors import AlreadyRunningError, StoreError
from monitor.redact import mask_url
from monitor.store.engine import describe_failure


class DaemonLock:
    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.path = lock_path(database_url)
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        if self.path is None:
            return  # PostgreSQL (or another server database): several daemons may share it
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

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing drops the lock
            self._handle = None


def _already_running(holder: str, where: str) -> AlreadyRunningError:
    return AlreadyRunningError(
        f"another monitor daemon ({holder}) is already running on {where}; stop it first "
        "(`monitor status` shows it). A SQLite database takes one daemon; to run several daemons on one "
        'database, use PostgreSQL ([monitor] database = "postgresql+psycopg://...")'
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
