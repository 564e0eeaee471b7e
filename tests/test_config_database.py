"""The database-only reading of the config file (`hits`, `stories`, `deliveries`): the same values and the same
messages as a full load for the two keys it reads, and nothing said about the parts it does not read."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import redact
from monitor.config import load_settings
from monitor.config.database import read_database_settings
from monitor.config.source import resolve_database
from monitor.errors import ConfigError
from tests.factory import run_cli

VALID_REST = """
[[feed]]
name = "f"
url = "https://example.org/feed"

[[watchlist]]
name = "w"
terms = ["drone"]
"""


def write(tmp_path: Path, monitor: str, rest: str = VALID_REST) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(f"[monitor]\n{monitor}\n{rest}", encoding="utf-8")
    return path


def full_problems(path: Path, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_settings(path, env)
    return raised.value.problems


def light_problems(path: Path, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        read_database_settings(path, env)
    return raised.value.problems


@pytest.mark.parametrize(
    "monitor",
    [
        'database = "sqlite:///monitor.db"',
        'database = "sqlite:///data/m.db?timeout=5"\nlog_level = "DEBUG"',
        'database = "sqlite:////var/lib/m.db"\nlog_level = "Warning"',
        'database = "postgresql://u@db/monitor"',
        'database = "sqlite:///:memory:"',
        'database = "sqlite:///${NAME}.db"',
        "",
    ],
)
def test_a_valid_database_and_log_level_read_as_a_full_load_reads_them(tmp_path: Path, monitor: str) -> None:
    path = write(tmp_path, monitor)
    env = {"NAME": "from-env"}
    full = load_settings(path, env).monitor
    light = read_database_settings(path, env)
    assert (light.database, light.log_level) == (full.database, full.log_level)


@pytest.mark.parametrize(
    "monitor",
    [
        "database = 5",
        "database = true",
        'database = ["sqlite:///a.db"]',
        'database = "monitor.db"',
        'database = "://nowhere"',
        'database = "${UNSET_DATABASE}"',
        'database = "sqlite:///${UNSET}.db"',
        'database = "sqlite:///a${.db"',
        'log_level = "loud"',
        'log_level = "LOUD"',
        "log_level = 3",
        'log_level = ["info"]',
        'log_level = "${UNSET_LEVEL}"',
        'database = 5\nlog_level = "loud"',
        'log_level = "loud"\ndatabase = 5',
    ],
)
def test_a_wrong_database_or_log_level_gets_the_full_loads_messages(tmp_path: Path, monitor: str) -> None:
    path = write(tmp_path, monitor)
    assert light_problems(path, {}) == full_problems(path, {})


@pytest.mark.parametrize(
    "text",
    [
        "monitor = 5\n",  # not a table
        "[monitor\n",  # not TOML
        "[monitor]\ndatabase = 'a'\ndatabase = 'b'\n",  # a key twice
        "x = " + "[" * 40 + "]" * 40 + "\n",  # nested too deep
    ],
    ids=["not-a-table", "invalid-toml", "duplicate-key", "too-deep"],
)
def test_a_file_that_is_not_a_config_gets_the_full_loads_message(tmp_path: Path, text: str) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    light = light_problems(path, {})
    assert light and set(light) <= set(full_problems(path, {}))


def test_an_unreadable_or_binary_file_gets_the_full_loads_message(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    assert light_problems(missing, {}) == full_problems(missing, {})
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"[monitor]\n\xff\xfe")
    assert light_problems(binary, {}) == full_problems(binary, {})


def test_mistakes_in_the_parts_not_read_are_left_to_the_commands_that_read_them(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'database = "sqlite:///m.db"\ninterval = "often"', VALID_REST + "\n[[alias]]\nx = 1\n"
    )
    assert len(full_problems(path, {})) >= 2
    assert read_database_settings(path, {}).database == f"sqlite:///{tmp_path.resolve() / 'm.db'}"
    checked = run_cli(path, "check")
    assert checked.returncode == 2 and "interval" in checked.stderr
    listed = run_cli(path, "hits")
    assert listed.returncode == 0 and listed.stdout.strip() == "no hits"
    shown = run_cli(path, "status")  # it reads the feeds, silent_after and the fingerprint of the values
    assert shown.returncode == 0 and "daemon: not running" in shown.stdout


def test_a_password_from_the_environment_is_masked_afterwards(tmp_path: Path) -> None:
    path = write(tmp_path, 'database = "postgresql://monitor:${DB_PASSWORD}@db.internal/monitor"')
    settings = read_database_settings(path, {"DB_PASSWORD": "s3cr3t-Pa55"})
    try:
        assert "s3cr3t-Pa55" in settings.database
        assert "s3cr3t-Pa55" not in redact.mask_known(f"cannot connect to {settings.database}")
    finally:
        redact.forget_all()


def test_the_database_commands_fail_on_a_wrong_database_key_with_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, 'database = "monitor.db"')  # not a URL: masked whole, it may be a secret
    for command in ("hits", "stories", "deliveries"):
        done = run_cli(path, command)
        assert done.returncode == 2, command
        assert done.stderr.strip().endswith(
            f"{path}:2: [monitor] database: not a database URL: '****' (use e.g. \"sqlite:///monitor.db\")"
        ), command


STATUS_CONFIGS = [
    ("", VALID_REST),
    ('silent_after = "36h"\ndatabase = "sqlite:///m.db"', VALID_REST),
    ('silent_after = "1ms"', VALID_REST),  # the least and the most it may be
    ('silent_after = "366d"', VALID_REST),
    ("silent_after = 5400", VALID_REST + '\n[[feed]]\nname = "local"\nurl = "file://feeds/x.xml"\n'),
    (
        'log_level = "DEBUG"',
        VALID_REST + '\n[[page]]\nname = "gac"\nurl = "https://example.org/news"\nselector = "a.item"\n',
    ),
]


@pytest.mark.parametrize(("monitor", "rest"), STATUS_CONFIGS)
def test_what_status_reads_is_what_a_full_load_gives(tmp_path: Path, monitor: str, rest: str) -> None:
    from monitor.config.compiled import load_config
    from monitor.config.database import read_status_settings

    path = write(tmp_path, monitor, rest)
    light = read_status_settings(path, {})
    config = load_config(path, {})
    assert light is not None
    assert light.sources == {job.name: job.url for job in config.jobs}
    assert light.silent_after == config.settings.monitor.silent_after
    assert light.fingerprint == config.settings.fingerprint
    assert light.database == read_database_settings(path, {})


def test_the_shipped_config_is_read_for_status_as_a_full_load_reads_it() -> None:
    from monitor.config.compiled import load_config
    from monitor.config.database import read_status_settings

    path = Path(__file__).resolve().parent.parent / "config" / "monitor.toml"
    light, config = read_status_settings(path, {}), load_config(path, {})
    assert light is not None and len(light.sources) == len(config.jobs) > 10
    assert (light.sources, light.fingerprint) == (
        {j.name: j.url for j in config.jobs},
        config.settings.fingerprint,
    )


@pytest.mark.parametrize(
    ("monitor", "rest"),
    [
        ('silent_after = "often"', VALID_REST),
        ("silent_after = 0", VALID_REST),
        ('silent_after = "400d"', VALID_REST),
        ('silent_after = "367d"', VALID_REST),  # a day past the most it may be (366d)
        ("silent_after = true", VALID_REST),
        ("", VALID_REST + '\n[[feed]]\nname = "f"\nurl = "https://example.org/other"\n'),
        ("", VALID_REST + '\n[[feed]]\nname = "g"\nurl = "ftp://example.org/feed"\n'),
        ("", VALID_REST + '\n[[feed]]\nname = "  "\nurl = "https://example.org/other"\n'),
        ("", VALID_REST + '\n[[page]]\nname = "p"\nurl = "file://pages/x.html"\n'),
        ("", VALID_REST + '\n[[page]]\nname = "p"\n'),
        ("", VALID_REST + '\n[[feed]]\nname = 3\nurl = "https://example.org/other"\n'),
        ('database = "${UNSET_DATABASE}"', VALID_REST),
    ],
)
def test_what_status_reads_that_is_wrong_gets_the_full_loads_message(
    tmp_path: Path, monitor: str, rest: str
) -> None:
    from monitor.config.database import read_status_settings

    path = write(tmp_path, monitor, rest)
    assert read_status_settings(path, {}) is None  # the caller loads the whole file
    shown = run_cli(path, "status")
    assert shown.returncode == 2 and shown.stderr.strip().splitlines()[0].startswith(f"monitor: {path}:")
    assert full_problems(path, {})[0] in shown.stderr


@pytest.mark.parametrize(
    ("value", "resolved"),
    [
        ("sqlite:///monitor.db", "sqlite:///{base}/monitor.db"),  # relative to the config's folder
        ("sqlite+pysqlite:///data/m.db?timeout=5", "sqlite+pysqlite:///{base}/data/m.db?timeout=5"),
        ("sqlite:////var/lib/monitor.db", "sqlite:////var/lib/monitor.db"),  # absolute already
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("sqlite://monitor.db", "sqlite://monitor.db"),  # not a file path: left for the driver to refuse
        ("postgresql:///monitor", "postgresql:///monitor"),  # a socket URL of another database
        ("postgresql://user@db.internal/monitor", "postgresql://user@db.internal/monitor"),
    ],
)
def test_only_a_relative_sqlite_file_is_made_absolute(tmp_path: Path, value: str, resolved: str) -> None:
    assert resolve_database(value, tmp_path) == resolved.format(base=tmp_path.resolve())
