"""`monitor run` as a real subprocess: live config edits, single instance, clean stop, crash recovery. Scheduling,
backoff, reload, digests and quiet hours are tested in-process on a clock in test_daemon_core.py."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.daemons import Daemon, base_config, second_is_refused
from tests.factory import Item, json_lines, recent, rss, run_cli
from tests.helpers import LocalServer, WebhookServer, feed_with, posted_text, wait_for

pytestmark = pytest.mark.timeout(120)


def test_new_items_are_alerted_and_config_edits_apply_live(
    tmp_path: Path,
    http_server: LocalServer,
    webhook_server: WebhookServer,
    start_daemon: Callable[[Path], Daemon],
) -> None:
    feed_with(http_server, "/wire.xml", ["Wescam sensors found"])
    config = base_config(tmp_path, http_server, webhook_server)
    daemon = start_daemon(config)
    wait_for(lambda: "Wescam sensors found" in posted_text(webhook_server), what="the first alert")

    feed_with(http_server, "/wire.xml", ["Wescam sensors found", "Baykar denies report"])
    wait_for(lambda: "Baykar denies report" in posted_text(webhook_server), what="an alert for a new item")

    # A broken edit is reported with file:line and the old config keeps working.
    good = config.read_text(encoding="utf-8")
    config.write_text(good.replace('interval = "1s"', 'interval = "soon"', 1), encoding="utf-8")
    wait_for(lambda: f"{config}:" in daemon.output() and "soon" in daemon.output(), what="the config error")
    feed_with(
        http_server, "/wire.xml", ["Wescam sensors found", "Baykar denies report", "Baykar TB2 exports"]
    )
    wait_for(
        lambda: "Baykar TB2 exports" in posted_text(webhook_server), what="alerts on the last good config"
    )

    # Adding a feed and a watchlist takes effect without a restart.
    feed_with(http_server, "/extra.xml", ["Export permits for Turkey suspended"])
    config.write_text(
        good
        + f'\n[[feed]]\nname = "extra"\nurl = "{http_server.url("/extra.xml")}"\ninterval = "1s"\n'
        + '\n[[watchlist]]\nname = "permits"\nterms = ["export permit*"]\nnotify = ["chat"]\n',
        encoding="utf-8",
    )
    wait_for(
        lambda: "Export permits for Turkey" in posted_text(webhook_server), what="the added feed's alert"
    )

    # Removing a feed stops its polls.
    config.write_text(good, encoding="utf-8")
    wait_for(lambda: "removed=['extra']" in daemon.output(), what="the feed removal")
    time.sleep(1.5)  # let a poll that had already started finish
    polled = len(http_server.requests_for("/extra.xml"))
    time.sleep(3)
    assert len(http_server.requests_for("/extra.xml")) == polled
    assert daemon.stop() == 0
    assert "daemon stopped" in daemon.output()


def test_sigterm_during_a_poll_finishes_it_and_exits_zero(
    tmp_path: Path,
    http_server: LocalServer,
    webhook_server: WebhookServer,
    start_daemon: Callable[[Path], Daemon],
) -> None:
    http_server.route(
        "/wire.xml",
        body=rss([Item("Wescam in the news", http_server.url("/slow-page"), "Wescam.", recent())]),
    )
    http_server.route(
        "/slow-page",
        body=b"<html><body><p>Wescam story.</p></body></html>",
        delay=3,
        headers={"Content-Type": "text/html"},
    )
    config = base_config(tmp_path, http_server, webhook_server)
    config.write_text(config.read_text().replace("fulltext = false", "fulltext = true"), encoding="utf-8")
    daemon = start_daemon(config)
    wait_for(lambda: http_server.requests_for("/slow-page"), what="the page fetch to start")
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.process.wait(timeout=60) == 0  # one signal: a graceful stop (a second would exit at once)
    daemon.stop()
    hits = json_lines(run_cli(config, "hits", "--format", "json").stdout)
    assert [h["title"] for h in hits] == ["Wescam in the news"]


def test_a_second_daemon_on_the_same_database_is_refused(
    tmp_path: Path,
    http_server: LocalServer,
    webhook_server: WebhookServer,
    start_daemon: Callable[[Path], Daemon],
) -> None:
    feed_with(http_server, "/wire.xml", ["Nothing to see"])
    config = base_config(tmp_path, http_server, webhook_server)
    first = start_daemon(config)
    second_is_refused(first)
    status = run_cli(config, "status")
    assert f"daemon: running (pid {first.process.pid}" in status.stdout
    assert first.stop() == 0


def test_kill_9_between_storing_and_sending_loses_no_alert(
    tmp_path: Path,
    http_server: LocalServer,
    webhook_server: WebhookServer,
    start_daemon: Callable[[Path], Daemon],
) -> None:
    feed_with(http_server, "/wire.xml", ["Wescam sensors found", "Baykar denies report"])
    config = base_config(tmp_path, http_server, webhook_server)
    patient = config.read_text(encoding="utf-8").replace('group_window = "1s"', 'group_window = "1h"')
    config.write_text(patient, encoding="utf-8")
    daemon = start_daemon(config)

    def stored() -> int:
        return len(json_lines(run_cli(config, "hits", "--format", "json").stdout))

    wait_for(lambda: stored() == 2, what="the hits to be stored")
    daemon.process.kill()  # SIGKILL: no chance to clean up
    daemon.process.wait()
    assert webhook_server.posts == []

    config.write_text(patient.replace('group_window = "1h"', 'group_window = "0s"'), encoding="utf-8")
    restarted = start_daemon(config)
    wait_for(lambda: webhook_server.posts, what="the alerts after the restart")
    time.sleep(2)  # room for a duplicate to show up, if there were one
    text = posted_text(webhook_server)
    assert len(webhook_server.posts) == 1
    assert "Wescam sensors found" in text and "Baykar denies report" in text
    assert restarted.stop() == 0


def test_poll_beside_a_running_daemon_sends_each_alert_once(
    tmp_path: Path,
    http_server: LocalServer,
    webhook_server: WebhookServer,
    start_daemon: Callable[[Path], Daemon],
) -> None:
    titles = [f"Wescam report {n}" for n in range(6)]
    feed_with(http_server, "/wire.xml", titles)
    config = base_config(tmp_path, http_server, webhook_server)
    daemon = start_daemon(config)
    polls = [run_cli(config, "poll") for _ in range(2)]  # racing the daemon for the same feed and alerts
    assert all(p.returncode == 0 for p in polls), [p.stderr for p in polls]
    wait_for(lambda: all(t in posted_text(webhook_server) for t in titles), what="every alert")
    time.sleep(2)  # room for a duplicate to show up, if there were one
    text = posted_text(webhook_server)
    assert all(text.count(t) == 1 for t in titles), text
    assert len(json_lines(run_cli(config, "hits", "--format", "json").stdout)) == len(titles)
    assert daemon.stop() == 0
