"""PostgreSQL for tests: one fresh database per test, never a skip.

    from tests.pgserver import pg_server, pg_url

    def test_something(pg_url: str) -> None:
        store = Store.open(pg_url)  # postgresql+psycopg://postgres@127.0.0.1:5432/monitor_test_<random>
        ...

``pg_url`` makes its database on the server at ``MONITOR_TEST_PG_URL`` (default
postgresql+psycopg://postgres@127.0.0.1:5432/test, trust auth) when that server answers, else on a throw-away
server (``pg_server``) started once per session from a temporary folder on 127.0.0.1 and a free port, with its
socket inside that folder, as the ``postgres`` user when the tests run as root (initdb refuses root). Only that
server is stopped at the end. A test that needs to stop or restart its server asks for ``pg_server`` itself:
the shared server is never restarted. Where neither server can be had, the tests fail with what is missing.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL_HINT = "install the PostgreSQL server binaries (Debian/Ubuntu: apt-get install postgresql)"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class PgServer:
    folder: Path
    port: int
    bin: Path
    as_user: list[str]
    options: str = ""

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

    def stop(self) -> None:
        """Stop the server (fast shutdown: open connections are cut), as a restart of the machine would."""
        done = self.run(str(self.bin / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data))
        assert done.returncode == 0, f"pg_ctl stop failed: {done.stdout}{done.stderr}"

    def start(self) -> None:
        """Start it again on the same port."""
        done = self.run(
            str(self.bin / "pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            self.options,
        )
        assert done.returncode == 0, f"pg_ctl start failed: {done.stdout}{done.stderr}"

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
    _need_psycopg()
    bin_folder = find_bin()
    if bin_folder is None:
        pytest.fail(
            f"PostgreSQL tests need a server: none answers at {_shown(shared_url())} and there is no initdb and "
            f"pg_ctl to start one; {INSTALL_HINT}, or set MONITOR_TEST_PG_URL",
            pytrace=False,
        )
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        runuser = shutil.which("runuser")
        try:
            shutil.chown(folder, user="postgres", group="postgres")
        except (LookupError, PermissionError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            pytest.fail(
                f"PostgreSQL tests run as root need a 'postgres' user ({exc}); {INSTALL_HINT}", pytrace=False
            )
        if runuser is None:
            shutil.rmtree(folder, ignore_errors=True)
            pytest.fail(
                "PostgreSQL tests run as root need runuser to start the server as 'postgres'", pytrace=False
            )
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
            options = server.options = (
                f"-h 127.0.0.1 -p {server.port} -k {folder} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
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


def shared_url() -> str:
    return os.environ.get("MONITOR_TEST_PG_URL") or DEFAULT_URL


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _need_psycopg() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("psycopg is not installed (it is a dependency: make install)", pytrace=False)


def _libpq(url: str, database: str | None = None) -> str:
    """The libpq form of a SQLAlchemy URL, for psycopg itself."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def shared_server_answers(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@dataclass
class SharedServer:
    """The PostgreSQL server other test runs use at the same time: only our own databases are made and dropped."""

    base: str

    def url(self, database: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.base).set(database=database).render_as_string(hide_password=False)

    def admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(_libpq(self.base), autocommit=True, connect_timeout=10) as conn:
            for statement in statements:
                conn.execute(statement)


_shared: list[SharedServer | None] = []  # decided once per session


def _shared_server() -> SharedServer | None:
    if not _shared:
        url = shared_url()
        _shared.append(SharedServer(url) if shared_server_answers(url) else None)
    return _shared[0]


def new_database_name() -> str:
    return f"monitor_test_{secrets.token_hex(6)}"


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A SQLAlchemy URL to an empty database made for this test (dropped afterwards): on the shared server when
    it answers, else on the throw-away one."""
    _need_psycopg()
    server: SharedServer | PgServer | None = _shared_server()
    if server is None:
        server = request.getfixturevalue("pg_server")
    name = new_database_name()
    server.admin(f"CREATE DATABASE {name}")
    yield server.url(name)
    server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def own_pg_url(pg_server: PgServer) -> Iterator[str]:
    """An empty database on the throw-away server, for tests that stop or restart their server."""
    name = new_database_name()
    pg_server.admin(f"CREATE DATABASE {name}")
    yield pg_server.url(name)
    pg_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
