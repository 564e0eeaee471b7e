"""Lean commands: each command loads only the parts it uses (read from `python -X importtime` of a real process),
and a database already at the newest schema is recognised without Alembic."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from monitor.store import Store
from monitor.store.engine import MIGRATIONS, alembic_config, head_revision, upgrade
from tests.factory import run_cli, write_config
from tests.helpers import add_hit

# What no command below may load: the HTTP client, alerting, extraction, migrations, feed parsing, workers.
NEVER = {"httpx", "apprise", "trafilatura", "alembic", "feedparser", "pebble", "starlette", "uvicorn"}


def imported_by(config: Path | None, *args: str) -> set[str]:
    """Every module the command imported, read from ``python -X importtime`` of a real `monitor` process."""
    done = run_cli(config, *args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert done.returncode in (0, 1), done.stderr[-2000:]
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "monitor.cli" in names  # the reading works
    return names


def packages(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def simple_config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path,
        watchlists=[{"name": "w", "terms": ["drone"], "notify": ["console"]}],
        notifiers=[{"name": "console"}],
    )


def test_help_loads_nothing_but_the_standard_library_and_argument_parsing() -> None:
    loaded = packages(imported_by(None, "--help"))
    assert not loaded & (NEVER | {"sqlalchemy", "pydantic", "jinja2", "asyncio", "numpy", "lxml"})


def test_check_reads_a_sqlite_database_without_sqlalchemy(tmp_path: Path) -> None:
    """`check` opens the database (without migrating it) with the standard library's sqlite3: no SQLAlchemy, and
    nothing of HTTP, alerting, extraction, migrations or language detection."""
    config = simple_config(tmp_path)
    Store.open(f"sqlite:///{tmp_path / 'monitor.db'}").close()
    loaded = imported_by(config, "check")
    assert "sqlite3" in loaded  # the database was opened, and not by SQLAlchemy
    assert not packages(loaded) & (NEVER | {"sqlalchemy", "jinja2", "numpy", "py3langid", "lxml", "courlan"})


def test_match_on_a_text_file_loads_no_database_http_or_alerting_code(tmp_path: Path) -> None:
    """Nor the event loop, and the language model is mapped from its cache file, not unpacked (after the first
    run, which writes that file)."""
    config = simple_config(tmp_path)
    article = tmp_path / "article.txt"
    article.write_text("A drone was seen over the border at dawn.", encoding="utf-8")
    env = {"PYTHONPROFILEIMPORTTIME": "1", "MONITOR_CACHE_DIR": str(tmp_path / "cache")}
    first = run_cli(config, "match", "--file", str(article), env=env)
    assert "language en" in first.stdout
    [cache] = (tmp_path / "cache").glob("langid-*.bin")  # unpacked once
    written = cache.stat()
    done = run_cli(config, "match", "--file", str(article), env=env)
    assert "language en" in done.stdout
    assert (cache.stat().st_ino, cache.stat().st_mtime_ns) == (
        written.st_ino,
        written.st_mtime_ns,
    )  # only read
    loaded = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert {"ahocorasick_rs", "py3langid.langid", "monitor.match.langid_model"} <= loaded  # matched, detected
    assert not packages(loaded) & (NEVER | {"sqlalchemy", "jinja2", "lxml", "courlan", "asyncio"})


def test_reading_commands_on_a_current_database_load_sqlalchemy_core_and_nothing_heavy(
    tmp_path: Path,
) -> None:
    config = simple_config(tmp_path)
    store = Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")
    add_hit(
        store, "Drone seen", datetime.now(UTC), "w", ("console",)
    )  # hits to list, with their snippets explained
    store.close()
    for name in ("hits", "status", "deliveries", "stories"):
        loaded = imported_by(config, name)
        assert "sqlalchemy.engine" in loaded, name
        assert "sqlalchemy.orm" not in loaded, name
        assert "sqlalchemy.dialects.postgresql" not in loaded, name  # a SQLite database
        assert not packages(loaded) & (NEVER | {"jinja2", "numpy", "py3langid", "lxml", "courlan"}), name
        # they read a few keys of the config (status: the feeds, silent_after, the fingerprint of the values)
        assert not packages(loaded) & {"pydantic", "pydantic_core", "ahocorasick_rs", "Stemmer"}, name


def test_head_revision_read_from_the_files_is_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_head_revision_is_none_when_the_files_have_two_heads(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision = "b"\ndown_revision = "a"\n')
    assert head_revision(tmp_path) == "b"
    (tmp_path / "c.py").write_text('revision: str = "c"\ndown_revision: str | None = "a"\n')
    assert head_revision(tmp_path) is None  # b and c both build on a: Alembic decides


def test_an_outdated_database_is_still_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:  # a database of the first releases: the schema of revision 0002
        config = alembic_config(engine)
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    assert upgrade(engine) == [head_revision()]  # behind: Alembic runs the missing steps
    assert upgrade(engine) == []  # current: recognised without Alembic
    with engine.begin() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    engine.dispose()


def test_check_says_whether_a_sqlite_database_is_at_the_newest_schema(tmp_path: Path) -> None:
    config = simple_config(tmp_path)
    database = tmp_path / "monitor.db"
    assert "(not created yet; the first poll creates it)" in run_cli(config, "check").stdout
    assert not database.exists()  # checking creates nothing
    sqlite3.connect(database).close()  # a file with no tables yet
    assert "no tables yet, the first poll creates them" in run_cli(config, "check").stdout
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        config_ = alembic_config(engine)
        config_.attributes["connection"] = conn
        command.upgrade(config_, "0002")
    engine.dispose()
    behind = run_cli(config, "check")
    assert behind.returncode == 0
    assert f"at schema 0002, the next poll migrates it to {head_revision()}" in behind.stdout
    Store.open(f"sqlite:///{database}").close()
    current = run_cli(config, "check")
    assert current.returncode == 0 and current.stdout.rstrip().endswith("/monitor.db (opened and writable)")
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'zz99'")
    assert "at schema zz99, which these migration files do not lead to" in run_cli(config, "check").stdout


def test_check_exits_3_on_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    config = simple_config(tmp_path)
    (tmp_path / "monitor.db").write_bytes(b"not a database, " * 200)
    checked = run_cli(config, "check")
    assert checked.returncode == 3
    last = checked.stderr.strip().splitlines()[-1]
    assert last.startswith("monitor: cannot open database sqlite:///") and last.endswith(
        ": file is not a database"
    )
