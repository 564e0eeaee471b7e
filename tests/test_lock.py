"""One daemon per SQLite database: the lock file beside it, held while a daemon runs. Real files and processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.errors import AlreadyRunningError
from monitor.lock import DaemonLock, lock_path, process_alive


def test_only_a_sqlite_file_has_a_lock_file(tmp_path: Path) -> None:
    assert lock_path(f"sqlite:///{tmp_path / 'monitor.db'}") == tmp_path / "monitor.db.lock"
    assert lock_path("sqlite:///:memory:") is None
    assert lock_path("sqlite://") is None
    assert lock_path("postgresql+psycopg://root@127.0.0.1/test") is None


def test_a_second_lock_on_the_same_database_names_the_first_holder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"
    first, second = DaemonLock(url), DaemonLock(url)
    first.acquire()
    try:
        assert (tmp_path / "data" / "monitor.db.lock").read_text(encoding="utf-8") == str(os.getpid())
        with pytest.raises(AlreadyRunningError, match=f"pid {os.getpid()}"):
            second.acquire()
    finally:
        first.release()
    second.acquire()  # released: the next daemon takes it
    second.release()
    DaemonLock(
        "postgresql+psycopg://root@127.0.0.1/test"
    ).acquire()  # several daemons share a server database


def test_a_process_is_alive_until_it_ends_and_one_on_another_host_is_taken_as_alive() -> None:
    assert process_alive(os.getpid(), socket.gethostname())
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(ended.stdout)
    assert not process_alive(pid, socket.gethostname())
    assert process_alive(pid, "another-host.example")
