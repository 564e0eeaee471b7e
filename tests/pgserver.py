"""A throw-away PostgreSQL server for tests: started once per session, one fresh database per test.

    from tests.pgserver import pg_server, pg_url

    def test_something(pg_url: str) -> None:
        store = Store.open(pg_url)  # postgresql+psycopg://postgres@127.0.0.1:PORT/test_N
        ...

The server runs from a temporary folder on 127.0.0.1 and a free port, with its socket inside that folder, as the
``postgres`` user when the tests run as root (initdb refuses root). Only that server is stopped at the end.
Without the server binaries (the Debian ``postgresql`` package) or psycopg, the tests are skipped.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL_HINT = "install the PostgreSQL server binaries (Debian/Ubuntu: apt-get install postgresql)"
_names = itertools.count(1)


@dataclass
class PgServer:
    folder: Path
    port: int
    bin: Path
    as_user: list[str]

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, *statements: str) -> None:
        """Run statements outside a transaction (CREATE/DROP DATABASE) as the superuser."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            for statement in statements:
                conn.execute(statement)

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, timeout=120, check=False
        )


def find_bin() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres: on PATH, or the newest Debian cluster version."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for folder in reversed(folders):
        if all(os.access(Path(folder, name), os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    pytest.importorskip("psycopg", reason="psycopg is not installed (it is a dependency: make install)")
    bin_folder = find_bin()
    if bin_folder is None:
        pytest.skip(f"PostgreSQL tests need initdb and pg_ctl; {INSTALL_HINT}")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        runuser = shutil.which("runuser")
        try:
            shutil.chown(folder, user="postgres", group="postgres")
        except (LookupError, PermissionError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            pytest.skip(f"PostgreSQL tests run as root need a 'postgres' user ({exc}); {INSTALL_HINT}")
        if runuser is None:
            shutil.rmtree(folder, ignore_errors=True)
            pytest.skip("PostgreSQL tests run as root need runuser to start the server as 'postgres'")
        as_user = [runuser, "-u", "postgres", "--"]
    server = PgServer(folder, 0, bin_folder, as_user)
    try:
        init = server.run(
            str(bin_folder / "initdb"),
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        if init.returncode != 0:
            pytest.fail(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        started = None
        for _attempt in range(3):  # another process may take the free port between the check and the start
            server.port = _free_port()
            options = (
                f"-h 127.0.0.1 -p {server.port} -k {folder} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            started = server.run(
                str(bin_folder / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(server.data),
                "-l",
                str(folder / "server.log"),
                "-o",
                options,
            )
            if started.returncode == 0:
                break
        assert started is not None
        if started.returncode != 0:
            log = (
                (folder / "server.log").read_text(errors="replace")
                if (folder / "server.log").exists()
                else ""
            )
            pytest.fail(f"PostgreSQL did not start:\n{started.stdout}\n{started.stderr}\n{log}")
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            server.run(str(bin_folder / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(server.data))
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A SQLAlchemy URL to an empty database made for this test (dropped afterwards)."""
    name = f"test_{os.getpid()}_{next(_names)}"
    pg_server.admin(f"CREATE DATABASE {name}")
    yield pg_server.url(name)
    pg_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
