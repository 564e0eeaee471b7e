"""Config for several daemons: the lease must outlast a fetch (a path:line error otherwise), and the fingerprint
`monitor status` compares tells configs apart by what they compile to, not by their layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config.compiled import load_config
from monitor.errors import ConfigError
from tests.factory import run_cli


def test_a_lease_shorter_than_the_timeout_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text('[monitor]\ntimeout = "90s"\nlease = "1m"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    [problem] = error.value.problems
    assert problem.startswith(f"{path}:3: ") and "lease = 1m is shorter than timeout = 1m30s" in problem
    checked = run_cli(path, "check")
    assert checked.returncode == 2 and f"{path}:3:" in checked.stderr


def test_without_a_lease_key_the_error_points_at_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text('[monitor]\n\ntimeout = "5m"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.problems[0].startswith(f"{path}:3: ")
    path.write_text('[monitor]\ntimeout = "2m"\n', encoding="utf-8")  # equal to the default lease: fine
    assert load_config(path).settings.monitor.lease == 120.0


def test_the_fingerprint_follows_what_the_config_says_not_how(tmp_path: Path) -> None:
    base = '[monitor]\ndatabase = "postgresql+psycopg://u@db/m"\n\n[[watchlist]]\nname = "a"\nterms = ["x"]\n'
    first, second, third = (tmp_path / name for name in ("one.toml", "two.toml", "three.toml"))
    first.write_text(base, encoding="utf-8")
    second.write_text("# the same, laid out otherwise\n" + base.replace("\n\n", "\n\n\n"), encoding="utf-8")
    third.write_text(base.replace('["x"]', '["y"]'), encoding="utf-8")
    prints = [load_config(path).settings.fingerprint for path in (first, second, third)]
    assert prints[0] == prints[1] != prints[2]
    assert len(prints[0]) == 16
