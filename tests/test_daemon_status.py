"""What `monitor status` says about the daemons: their states at the heartbeat boundary, the config warnings, and
the text. Pure: rows and ``now`` in, values out (the daemons on another host are taken to be alive)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.daemon_status import STALE_AFTER, config_warnings, daemon_rows, daemons_text
from monitor.store import Store
from monitor.store.daemons import DaemonRow, Daemons
from tests.factory import json_lines, write_config
from tests.helpers import cli_inline

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def row(owner: str, heartbeat: datetime = NOW, fingerprint: str = "aaaa", pid: int = 4242) -> DaemonRow:
    started = NOW - timedelta(hours=1)
    return DaemonRow(owner, "elsewhere", pid, started, heartbeat, fingerprint, "/etc/monitor.toml")


@pytest.mark.parametrize(
    ("age", "state"),
    [
        (timedelta(0), "running"),
        (STALE_AFTER, "running"),
        (STALE_AFTER + timedelta(seconds=1), "not responding (no heartbeat)"),
    ],
)
def test_a_daemon_without_a_heartbeat_for_longer_than_the_limit_is_not_responding(
    age: timedelta, state: str
) -> None:
    [daemon] = daemon_rows([row("a", NOW - age)], {"a": 3}, "aaaa", NOW)
    assert daemon["state"] == state
    assert daemon["feeds_leased"] == 3 and daemon["same_config"] is True


def test_a_record_of_a_process_gone_from_this_host_is_stale() -> None:
    import socket
    import subprocess
    import sys

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    record = DaemonRow("g", socket.gethostname(), int(gone.stdout), NOW, NOW, "aaaa", "/etc/monitor.toml")
    [daemon] = daemon_rows([record], {}, "bbbb", NOW)
    assert daemon["state"] == "not running (stale record)"
    assert daemon["feeds_leased"] == 0 and daemon["same_config"] is False


def test_config_warnings_name_the_running_daemons_configs() -> None:
    same = daemon_rows([row("a"), row("b")], {}, "aaaa", NOW)
    assert config_warnings(same, "aaaa") == []
    other = config_warnings(same, "cccc")
    assert other == ["the running daemons use a config (fingerprint aaaa) that differs from this one (cccc)"]
    mixed = daemon_rows([row("a"), row("b", fingerprint="bbbb", pid=7)], {}, "aaaa", NOW)
    [warning] = config_warnings(mixed, "aaaa")
    assert warning.startswith(
        "the 2 running daemons use 2 different configs (aaaa: pid 4242 on elsewhere; bbbb: pid 7 on elsewhere); "
    )
    # a daemon that stopped answering does not count
    stale = daemon_rows([row("a"), row("b", NOW - 2 * STALE_AFTER, "bbbb")], {}, "aaaa", NOW)
    assert config_warnings(stale, "aaaa") == []
    assert config_warnings([], "aaaa") == []


def test_the_text_counts_the_running_daemons_only_when_there_are_several() -> None:
    assert daemons_text([]) == "daemon: not running"
    one = daemons_text(daemon_rows([row("a")], {}, "aaaa", NOW))
    assert one.startswith("daemon: running (pid 4242 on elsewhere)\n") and "daemons:" not in one
    three = daemons_text(daemon_rows([row("a"), row("b"), row("c", NOW - 2 * STALE_AFTER)], {}, "aaaa", NOW))
    assert three.startswith("daemons: 2 running of 3 recorded\n")


def test_status_shows_the_running_daemon_first_even_after_a_record_that_stopped_beating(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, watchlists=[{"name": "w", "terms": ["Wescam"]}])
    assert cli_inline(config, "status").returncode == 0  # the database made
    store = Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        registry = Daemons(store.engine)
        now = datetime.now(UTC)
        hour_ago = now - timedelta(hours=1)
        registry.register(
            DaemonRow("quiet", "elsewhere", 11, hour_ago, hour_ago, "aaaa", "/etc/monitor.toml")
        )
        registry.register(DaemonRow("live", "elsewhere", 22, now, now, "aaaa", "/etc/monitor.toml"))
    finally:
        store.close()
    shown = json_lines(cli_inline(config, "status", "--format", "json").stdout)[0]
    assert [d["state"] for d in shown["daemons"]] == ["not responding (no heartbeat)", "running"]
    assert shown["daemon"]["owner"] == "live"
