"""The daemon's scheduling in-process, on a clock the test moves: first polls, backoff (also across a restart),
config reload, digests and quiet hours. The scheduler is started paused, so nothing runs unless the test runs it;
the parts are the real ones, with parsing and extraction inline (``WorkerPool(0)``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.config.compiled import load_config
from monitor.daemon import Daemon
from monitor.runtime import open_runtime
from monitor.workers import WorkerPool
from tests.helpers import Item, LocalServer, WebhookServer, rss, write_config

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, 06:00 UTC


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def feed(server: LocalServer, path: str, titles: list[str], at: datetime = T0) -> str:
    items = [
        Item(t, server.url(f"/page/{n}"), f"{t}.", at - timedelta(hours=1)) for n, t in enumerate(titles)
    ]
    return server.route(path, body=rss(items), headers={"Content-Type": "application/rss+xml"})


def config_file(
    tmp_path: Path, feeds: dict[str, str], notifier: dict[str, Any] | None = None, **monitor: Any
) -> Path:
    return write_config(
        tmp_path,
        monitor={"fulltext": False, "group_window": "0s", "max_backoff": "2h", **monitor},
        feeds=[{"name": name, "url": url, "interval": "10m"} for name, url in feeds.items()],
        watchlists=[{"name": "arms", "terms": ["Wescam"], "notify": ["chat"]}],
        notifiers=[{"name": "chat", "urls": ["json://127.0.0.1:9/"], **(notifier or {})}],
    )


def run_daemon(
    path: Path, clock: Clock, scenario: Callable[[Daemon, AsyncIOScheduler], Awaitable[None]]
) -> None:
    """Start a daemon on ``path`` with its scheduler paused, run the scenario, then close everything."""

    async def main() -> None:
        daemon = Daemon(path, load_config(path), clock=clock)
        async with open_runtime(daemon.config, workers=WorkerPool(0)) as runtime:
            scheduler = daemon.start(runtime, paused=True)
            try:
                await scenario(daemon, scheduler)
            finally:
                scheduler.shutdown(wait=False)

    asyncio.run(main())


def next_run(scheduler: AsyncIOScheduler, feed: str) -> datetime:
    job = scheduler.get_job(f"feed:{feed}")
    assert job is not None, f"no job for {feed}"
    when: datetime = job.next_run_time
    return when


def test_first_polls_are_spread_over_the_first_interval(tmp_path: Path, http_server: LocalServer) -> None:
    urls = {name: feed(http_server, f"/{name}.xml", []) for name in ("a", "b", "c", "d", "e")}
    clock = Clock(T0)

    async def scenario(daemon: Daemon, scheduler: AsyncIOScheduler) -> None:
        assert [next_run(scheduler, name) for name in urls] == [
            T0 + timedelta(minutes=2 * i) for i in range(5)
        ]
        assert {job.id for job in scheduler.get_jobs()} >= {"deliver", "heartbeat", "housekeeping"}

    run_daemon(config_file(tmp_path, urls), clock, scenario)


def test_a_failing_feed_is_rescheduled_to_its_backoff_which_survives_a_restart(
    tmp_path: Path, http_server: LocalServer
) -> None:
    url = http_server.route("/wire.xml", status=503, body=b"busy")
    path = config_file(tmp_path, {"wire": url})
    clock = Clock(T0)
    backoffs: list[datetime] = []

    async def fail_twice(daemon: Daemon, scheduler: AsyncIOScheduler) -> None:
        for _ in range(2):
            await daemon._poll("wire")
            backoffs.append(next_run(scheduler, "wire"))
            clock.now = backoffs[-1]

    run_daemon(path, clock, fail_twice)
    assert T0 + timedelta(minutes=10) <= backoffs[0] < T0 + timedelta(minutes=11)
    assert backoffs[0] + timedelta(minutes=20) <= backoffs[1] < backoffs[0] + timedelta(minutes=22)

    clock.now = backoffs[0] + timedelta(minutes=1)  # restarted well before the backoff ends

    async def restarted(daemon: Daemon, scheduler: AsyncIOScheduler) -> None:
        assert next_run(scheduler, "wire") == backoffs[1]

    run_daemon(path, clock, restarted)


def test_a_failed_poll_is_logged_as_a_warning_and_a_good_one_as_information(
    tmp_path: Path, http_server: LocalServer, caplog: Any
) -> None:
    bad = http_server.route("/bad.xml", status=503, body=b"busy")
    good = feed(http_server, "/good.xml", ["Wescam sensors"])
    path = config_file(tmp_path, {"bad": bad, "good": good})

    async def both(daemon: Daemon, scheduler: AsyncIOScheduler) -> None:
        await daemon._poll("bad")
        await daemon._poll("good")

    with caplog.at_level(logging.INFO, logger="monitor.daemon"):
        run_daemon(path, Clock(T0), both)
    levels = {
        record.getMessage().split()[1]: record.levelname
        for record in caplog.records
        if record.name == "monitor.daemon" and record.getMessage().startswith("poll feed=")
    }
    assert levels == {"feed=bad": "WARNING", "feed=good": "INFO"}


def test_only_the_config_file_itself_is_watched_for_changes(tmp_path: Path) -> None:
    from monitor.daemon import config_change_filter

    path = tmp_path / "monitor.toml"
    is_config = config_change_filter(path)
    assert is_config(None, str(path))
    assert is_config(None, str(tmp_path / "." / "monitor.toml"))  # the same file by another spelling
    assert not is_config(None, str(tmp_path / "monitor.db"))  # the database beside it, written all the time
    assert not is_config(None, str(tmp_path / "monitor.toml~"))


def test_a_reload_changes_how_many_feeds_are_polled_at_once_only_when_its_bound_changes(
    tmp_path: Path, http_server: LocalServer
) -> None:
    urls = {"wire": feed(http_server, "/wire.xml", [])}
    config_file(tmp_path, urls, max_connections=2)

    async def scenario(daemon: Daemon, scheduler: AsyncIOScheduler) -> None:
        first = daemon._poll_slots
        config_file(tmp_path, urls, max_connections=2, timeout="20s")  # another setting changed
        daemon.reload()
        assert daemon._poll_slots is first
        config_file(tmp_path, urls, max_connections=3)
        daemon.reload()
        assert daemon._poll_slots is not first and daemon.config.settings.monitor.max_connections == 3

    run_daemon(tmp_path / "monitor.toml", Clock(T0), scenario)


def test_a_recovered_feed_keeps_its_interval(tmp_path: Path, http_server: LocalServer) -> None:
    url = feed(http_server, "/wire.xml", ["Wescam sensors found"])
    clock = Clock(T0)

    async def scenario(daemon: Daemon, scheduler: AsyncIOScheduler) -> None:
        before = next_run(scheduler, "wire")
        await daemon._poll("wire")
        assert next_run(scheduler, "wire") == before  # the interval trigger, not a backoff
        assert daemon.runtime is not None
        assert daemon.runtime.store.feed_state("wire").next_poll == T0 + timedelta(minutes=10)

    run_daemon(config_file(tmp_path, {"wire": url}), clock, scenario)


def test_a_reload_adds_removes_and_reschedules_feeds_and_keeps_a_bad_edit_out(
    tmp_path: Path, http_server: LocalServer, caplog: Any
) -> None:
    urls = {name: feed(http_server, f"/{name}.xml", []) for name in ("kept", "changed", "dropped")}
    path = config_file(tmp_path, urls)
    clock = Clock(T0)

    async def scenario(daemon: Daemon, scheduler: AsyncIOScheduler) -> None:
        kept = next_run(scheduler, "kept")
        assert daemon.runtime is not None
        daemon.runtime.pipeline.told.update(kept=b"\x01\x00\x00\x00", dropped=b"\x02\x00\x00\x00")
        clock.advance(minutes=3)
        edited = {
            "kept": urls["kept"],
            "changed": urls["changed"] + "?v=2",
            "added": feed(http_server, "/added.xml", []),
        }
        config_file(tmp_path, edited)
        with caplog.at_level(logging.INFO, logger="monitor.daemon"):
            daemon.reload()
        assert (
            "config reloaded: feeds added=['added'] removed=['dropped'] changed=['changed']; 1 watchlists, 1 notifiers"
            in caplog.messages
        )
        assert {job.id for job in scheduler.get_jobs() if job.id.startswith("feed:")} == {
            "feed:kept",
            "feed:changed",
            "feed:added",
        }
        assert next_run(scheduler, "kept") == kept
        assert next_run(scheduler, "changed") == clock.now + timedelta(minutes=10)
        assert next_run(scheduler, "added") == clock.now
        assert [job.name for job in daemon.config.jobs] == ["kept", "changed", "added"]
        # what the last reads saw is kept for the feeds still configured, so their next reads tell only news
        assert daemon.runtime.pipeline.told == {"kept": b"\x01\x00\x00\x00"}

        path.write_text(path.read_text(encoding="utf-8") + "\n[[feed]]\nname = 1\n", encoding="utf-8")
        daemon.reload()  # refused: the daemon goes on with the last good config
        assert [job.name for job in daemon.config.jobs] == ["kept", "changed", "added"]

    run_daemon(path, clock, scenario)


def test_digests_go_out_at_their_firing_on_the_daemons_clock(
    tmp_path: Path, http_server: LocalServer, webhook_server: WebhookServer
) -> None:
    url = feed(http_server, "/wire.xml", ["Wescam sensors found", "Wescam deal signed"])
    notifier = {"urls": [webhook_server.apprise_url()], "mode": "digest", "schedule": "0 8 * * *"}
    clock = Clock(T0)

    async def scenario(daemon: Daemon, scheduler: AsyncIOScheduler) -> None:
        await daemon._poll("wire")
        await daemon._deliver()
        clock.now = T0 + timedelta(hours=1, minutes=59, seconds=59)
        await daemon._deliver()
        assert webhook_server.posts == []
        clock.now = T0 + timedelta(hours=2)
        await daemon._deliver()
        assert len(webhook_server.posts) == 1
        assert "Wescam sensors found" in webhook_server.posts[0].body.decode()
        clock.advance(hours=1)
        await daemon._deliver()
        assert len(webhook_server.posts) == 1

    run_daemon(config_file(tmp_path, {"wire": url}, notifier), clock, scenario)


def test_quiet_hours_hold_alerts_until_they_end_on_the_daemons_clock(
    tmp_path: Path, http_server: LocalServer, webhook_server: WebhookServer
) -> None:
    url = feed(http_server, "/wire.xml", ["Wescam sensors found"])
    notifier = {"urls": [webhook_server.apprise_url()], "quiet_hours": "22:00-07:00"}
    clock = Clock(T0)  # 06:00 UTC: quiet

    async def scenario(daemon: Daemon, scheduler: AsyncIOScheduler) -> None:
        await daemon._poll("wire")
        await daemon._deliver()
        clock.now = T0 + timedelta(minutes=59, seconds=59)
        await daemon._deliver()
        assert webhook_server.posts == []
        clock.now = T0 + timedelta(hours=1)
        await daemon._deliver()
        assert len(webhook_server.posts) == 1

    run_daemon(config_file(tmp_path, {"wire": url}, notifier), clock, scenario)


def test_a_retry_after_longer_than_the_backoff_is_obeyed(tmp_path: Path, http_server: LocalServer) -> None:
    url = http_server.route("/wire.xml", status=503, body=b"busy", headers={"Retry-After": "3600"})
    clock = Clock(T0)

    async def scenario(daemon: Daemon, scheduler: AsyncIOScheduler) -> None:
        await daemon._poll("wire")
        assert next_run(scheduler, "wire") == T0 + timedelta(hours=1)
        assert len(http_server.requests_for("/wire.xml")) == 1

    run_daemon(config_file(tmp_path, {"wire": url}), clock, scenario)


def test_a_failing_feed_recovers_and_its_alerts_go_out(
    tmp_path: Path, http_server: LocalServer, webhook_server: WebhookServer
) -> None:
    url = http_server.route("/wire.xml", status=500, body=b"down")
    notifier = {"urls": [webhook_server.apprise_url()]}
    clock = Clock(T0)

    async def scenario(daemon: Daemon, scheduler: AsyncIOScheduler) -> None:
        assert daemon.runtime is not None
        for _ in range(3):
            await daemon._poll("wire")
            clock.now = next_run(scheduler, "wire")
        assert daemon.runtime.store.feed_state("wire").consecutive_failures == 3
        feed(http_server, "/wire.xml", ["Wescam is back"], at=clock.now)
        await daemon._poll("wire")
        await daemon._deliver()
        state = daemon.runtime.store.feed_state("wire")
        assert (state.consecutive_failures, state.last_status) == (0, "ok")
        assert state.next_poll == clock.now + timedelta(minutes=10)
        assert "Wescam is back" in webhook_server.posts[0].body.decode()

    run_daemon(config_file(tmp_path, {"wire": url}, notifier), clock, scenario)
