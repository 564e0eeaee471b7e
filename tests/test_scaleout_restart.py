"""A daemon whose PostgreSQL server restarts under it keeps running: it stops claiming feeds, reconnects with
backoff (saying so in its log), resumes, and loses nothing: an entry published while the server was down is
stored and alerted once when it is back. The server here is a throw-away one of this test run (never the shared
one, which other test runs use)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.daemons import Daemon, daemon_config
from tests.factory import json_lines, run_cli
from tests.helpers import LocalServer, WebhookServer, feed_with, wait_for
from tests.pgserver import PgServer

pytestmark = pytest.mark.timeout(300)


def test_a_daemon_rides_out_a_postgresql_restart_and_loses_nothing(
    tmp_path: Path,
    pg_server: PgServer,
    own_pg_url: str,
    http_server: LocalServer,
    webhook_server: WebhookServer,
    start_daemon: Callable[[Path], Daemon],
) -> None:
    feed_with(http_server, "/wire.xml", ["Wescam sensors before"])
    feed_with(http_server, "/desk.xml", ["Nothing to see"])
    config = daemon_config(
        tmp_path,
        http_server,
        webhook_server,
        ("wire", "desk"),
        terms=["Wescam"],
        database=own_pg_url,
        lease="10s",
    )
    daemon = start_daemon(config)
    wait_for(lambda: b"Wescam sensors before" in b"".join(p.body for p in webhook_server.posts), timeout=60)

    pg_server.stop()  # every connection of the daemon is cut
    feed_with(http_server, "/wire.xml", ["Wescam sensors before", "Wescam sensors during the outage"])
    wait_for(lambda: "database connection lost" in daemon.output(), timeout=60, what="the loss noticed")
    time.sleep(3)  # a few reconnection attempts fail
    assert daemon.process.poll() is None, daemon.output()
    pg_server.start()

    wait_for(lambda: "database connection back" in daemon.output(), timeout=90, what="a reconnection")
    wait_for(
        lambda: b"during the outage" in b"".join(p.body for p in webhook_server.posts),
        timeout=90,
        what="the entry published during the outage alerted",
    )
    assert daemon.process.poll() is None
    log = daemon.output()
    assert "reconnecting to the database in" in log
    assert daemon.stop() == 0

    text = b"".join(p.body for p in webhook_server.posts).decode()
    assert text.count("Wescam sensors before") == 1 and text.count("during the outage") == 1
    hits = json_lines(run_cli(config, "hits", "--format", "json").stdout)
    assert sorted(h["title"] for h in hits) == ["Wescam sensors before", "Wescam sensors during the outage"]
