"""Lean commands: each command loads only the parts it uses (checked in sys.modules of a real process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from monitor.store import Store
from monitor.store.engine import MIGRATIONS, alembic_config, head_revision, upgrade
from tests.factory import write_config

HEAVY = (
    "sqlalchemy",
    "alembic",
    "apprise",
    "trafilatura",
    "httpx",
    "feedparser",
    "pebble",
    "starlette",
    "uvicorn",
)

# Runs the CLI in one process and prints which heavy packages it had loaded by the time it finished.
PROBE = """
import json, sys
from monitor.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(HEAVY)))
print("LOADED " + json.dumps(loaded))
"""


def loaded_by(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.replace("json.loads(HEAVY)", repr(list(HEAVY))), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
        check=False,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("LOADED "))
    loaded: list[str] = json.loads(line.removeprefix("LOADED "))
    return loaded


def test_help_loads_no_database_http_alerting_or_extraction_code() -> None:
    assert loaded_by("--help") == []


def test_check_loads_only_the_database_layer(tmp_path: Path) -> None:
    """`check` opens the database (without migrating) to catch an unusable one, so it loads SQLAlchemy, and
    nothing of HTTP, alerting, extraction or migrations."""
    config = write_config(
        tmp_path,
        watchlists=[{"name": "w", "terms": ["drone"], "notify": ["console"]}],
        notifiers=[{"name": "console"}],
    )
    assert loaded_by("--config", str(config), "check") == ["sqlalchemy"]


def test_match_on_a_text_file_loads_no_database_or_http_code(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        watchlists=[{"name": "w", "terms": ["drone"], "notify": ["console"]}],
        notifiers=[{"name": "console"}],
    )
    article = tmp_path / "article.txt"
    article.write_text("A drone was seen.", encoding="utf-8")
    assert loaded_by("--config", str(config), "match", "--file", str(article)) == []


def test_reading_commands_on_a_current_database_load_only_the_database_layer(tmp_path: Path) -> None:
    config = write_config(tmp_path, notifiers=[{"name": "console"}])
    Store.open(f"sqlite:///{tmp_path / 'monitor.db'}").close()  # migrated to the newest revision
    for name in ("hits", "status", "deliveries"):
        assert loaded_by("--config", str(config), name) == ["sqlalchemy"]


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
