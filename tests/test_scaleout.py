"""Several daemons on one PostgreSQL database: both run, each feed is polled by one of them at a time, every alert
goes out once, `monitor status` lists them all and warns when their configs differ; SQLite still takes one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy

from tests.daemons import Daemon, base_config, daemon_config, second_is_refused
from tests.factory import json_lines, run_cli
from tests.helpers import LocalServer, WebhookServer, feed_with, wait_for

pytestmark = pytest.mark.timeout(180)


def pg_config(folder: Path, pg_url: str, server: LocalServer, hook: WebhookServer, terms: list[str]) -> Path:
    wires = [f"wire{i}" for i in range(6)]
    return daemon_config(folder, server, hook, wires, "2s", terms, database=pg_url, lease="10s")


def test_two_daemons_share_one_database_and_status_shows_both(
    tmp_path: Path,
    pg_url: str,
    http_server: LocalServer,
    webhook_server: WebhookServer,
    start_daemon: Callable[[Path], Daemon],
) -> None:
    for i in range(6):
        feed_with(http_server, f"/wire{i}.xml", [f"Wescam sensors {i}", f"Nothing here {i}"])
    first_config = pg_config(tmp_path / "a", pg_url, http_server, webhook_server, ["Wescam"])
    second_config = pg_config(tmp_path / "b", pg_url, http_server, webhook_server, ["Wescam", "Baykar"])
    first = start_daemon(first_config)
    second = start_daemon(second_config)
    first.wait_started(what="the first daemon")
    second.wait_started(what="a second daemon on the same database")
    wait_for(lambda: first.process.poll() is None and second.process.poll() is None, what="both running")
    wait_for(
        lambda: "status=ok" in first.output() and "status=ok" in second.output(),
        timeout=60,
        what="both daemons polling",
    )
    # a feed polled is let go at once with its next poll scheduled, not held until its lease runs out
    engine = sqlalchemy.create_engine(pg_url)
    released = "SELECT count(*) FROM feed_leases WHERE leased_by IS NULL AND next_poll_at > now()"

    def let_go() -> bool:
        with engine.connect() as conn:
            return bool(conn.execute(sqlalchemy.text(released)).scalar())

    try:
        wait_for(let_go, timeout=30, what="a feed released after its poll, its next poll scheduled")
    finally:
        engine.dispose()

    def alerted() -> list[str]:
        return sorted(
            h["title"] for h in json_lines(run_cli(first_config, "hits", "--format", "json").stdout)
        )

    wait_for(lambda: len(alerted()) == 6, timeout=60, what="a hit per feed")
    wait_for(
        lambda: sum(post.body.count(b"Wescam sensors") for post in webhook_server.posts) >= 6, timeout=60
    )

    status = run_cli(first_config, "status", "--format", "json")
    [report] = json_lines(status.stdout)
    running = {d["pid"]: d for d in report["daemons"] if d["state"] == "running"}
    assert set(running) == {first.process.pid, second.process.pid}
    assert len({d["config_fingerprint"] for d in running.values()}) == 2
    assert report["warnings"] and "different configs" in report["warnings"][0]
    table = run_cli(first_config, "status").stdout
    assert f"pid {first.process.pid}" in table and f"pid {second.process.pid}" in table
    assert "warning: the 2 running daemons use 2 different configs" in table

    assert first.stop() == 0 and second.stop() == 0
    text = b"".join(post.body for post in webhook_server.posts).decode()
    for i in range(6):
        assert text.count(f"Wescam sensors {i}") == 1  # each alert once, whichever daemon polled the feed


def test_a_second_daemon_on_sqlite_is_refused_naming_postgresql(
    tmp_path: Path,
    http_server: LocalServer,
    webhook_server: WebhookServer,
    start_daemon: Callable[[Path], Daemon],
) -> None:
    feed_with(http_server, "/wire.xml", ["Nothing to see"])
    config = base_config(tmp_path, http_server, webhook_server)
    first = start_daemon(config)
    assert "PostgreSQL" in second_is_refused(first)
    assert first.stop() == 0
