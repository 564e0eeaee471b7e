"""Source health: the pure decisions at their boundaries (silent, paywalled, changes), then the wiring in a real
poll (local HTTP server, SQLite, a webhook notifier) and `monitor status`."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config.compiled import load_config
from monitor.errors import ConfigError
from monitor.fetch import Fetcher
from monitor.health import (
    FULLTEXT_CHARS,
    Health,
    PageSample,
    assess,
    health_change,
    is_silent,
    keep_recent,
    looks_paywalled,
    page_sample,
    silent_limit,
    usual_gap,
)
from monitor.health_watch import HealthNotifier, HealthWatch
from monitor.match import compile_watchlists
from monitor.models import FeedJob, PollResult, WatchlistSpec
from monitor.poll import Pipeline, PollLimits
from monitor.store import Store
from monitor.workers import WorkerPool
from tests.helpers import Item, LocalServer, WebhookServer, cli_inline, rss, write_config

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
DAY = 86400.0
WEEK = 7 * DAY
TEASER = "Canadian sensors on Turkish drones: what the export permits show. " * 3  # 197 characters
FULL = "Wescam imaging systems were found on Baykar drones. " * 20
GOOD, SHORT = PageSample(True, False), PageSample(False, False)


def hours(*offsets: float) -> list[datetime]:
    return [NOW + timedelta(hours=h) for h in offsets]


# --- the decisions ----------------------------------------------------------------------------------------


def test_usual_gap_is_the_median_gap() -> None:
    assert usual_gap([]) is None
    assert usual_gap(hours(0)) is None
    assert usual_gap(hours(0, 1)) == 3600
    assert usual_gap(hours(10, 0, 1, 2)) == 3600  # order does not matter; gaps 1h, 1h, 8h
    assert usual_gap(hours(0, 1, 3, 6)) == 2 * 3600


def test_silent_limit_is_the_larger_of_four_gaps_and_silent_after() -> None:
    assert silent_limit(None, WEEK) == WEEK
    assert silent_limit(DAY, WEEK) == WEEK
    assert silent_limit(2 * DAY, WEEK) == 8 * DAY
    assert silent_limit(DAY, 3600) == 4 * DAY


@pytest.mark.parametrize(
    ("since", "gap", "silent"),
    [
        (timedelta(days=7) - timedelta(seconds=1), None, False),
        (timedelta(days=7), None, True),
        (timedelta(days=40), DAY, True),
        (timedelta(days=8) - timedelta(seconds=1), 2 * DAY, False),  # 4 x 2 days beats 7 days
        (timedelta(days=8), 2 * DAY, True),
    ],
)
def test_silent_boundaries(since: timedelta, gap: float | None, silent: bool) -> None:
    assert is_silent(NOW - since, gap, WEEK, NOW) is silent


def test_a_feed_that_never_brought_anything_is_not_silent() -> None:
    assert is_silent(None, None, WEEK, NOW + timedelta(days=400)) is False


def test_page_samples() -> None:
    assert len(TEASER) < FULLTEXT_CHARS
    assert page_sample(TEASER) == SHORT
    assert page_sample(FULL) == GOOD
    assert page_sample("x" * (FULLTEXT_CHARS - 1)) == SHORT
    assert page_sample("x" * FULLTEXT_CHARS) == GOOD
    assert page_sample(FULL + " Subscribe to continue reading.") == PageSample(False, True)
    assert page_sample("") == SHORT


def test_paywalled_needs_five_pages_and_a_low_fulltext_rate() -> None:
    assert looks_paywalled([SHORT] * 4) is False
    assert looks_paywalled([SHORT] * 5) is True
    assert looks_paywalled([GOOD] + [SHORT] * 4) is False  # exactly 20% full text
    assert looks_paywalled([GOOD] + [SHORT] * 5) is True  # under 20%
    assert looks_paywalled([]) is False


def test_keep_recent_is_bounded_and_ordered() -> None:
    kept = keep_recent(hours(*range(20)), hours(25, 24), limit=20)
    assert len(kept) == 20 and kept[0] == hours(2)[0] and kept[-1] == hours(25)[0]


def test_assess_puts_it_together() -> None:
    health = assess(hours(0, 24, 48), [SHORT] * 48, 3, WEEK, NOW + timedelta(days=40))
    assert health == Health(hours(48)[0], DAY, True, 0.0, True, True)
    assert health.state == "failing,silent,paywalled"
    fresh = assess(hours(0, 1), [GOOD], 2, WEEK, NOW + timedelta(hours=2))
    assert fresh.state == "ok" and fresh.fulltext_rate == 1.0


def test_health_changes_are_told_once() -> None:
    assert health_change("f", None, "ok") is None
    assert health_change("f", "silent", "silent") is None
    turned = health_change("f", None, "paywalled")
    assert turned is not None and turned.message == "feed f is now paywalled"
    both = health_change("f", "failing", "silent")
    assert both is not None and both.started == ("silent",) and both.recovered == ("failing",)
    back = health_change("f", "failing,silent", "ok")
    assert back is not None and back.message == "feed f is no longer failing or silent"


# --- the wiring -------------------------------------------------------------------------------------------


def poll(store: Store, job: FeedJob, watch: HealthWatch, now: datetime) -> PollResult:
    async def run() -> PollResult:
        store.sync_feeds({job.name: job.url})
        async with Fetcher(timeout=5.0, user_agent="monitor-test") as fetcher:
            with WorkerPool(0) as workers:
                matcher = compile_watchlists([WatchlistSpec("arms", terms=("Wescam",))])
                limits = PollLimits(1_000_000, 1_000_000, 30.0, 7 * DAY, 3600.0)
                pipeline = Pipeline(fetcher, workers, store, matcher, {"arms": ()}, limits, random.Random(1))
                pipeline.health = watch
                return await pipeline.poll_safely(job, now)

    return asyncio.run(run())


def teaser_page(title: str) -> bytes:
    return f"<html><head><title>{title}</title></head><body><article><p>{TEASER}</p></article></body></html>".encode()


def test_a_paywalled_then_silent_feed_is_told_once_each(
    http_server: LocalServer, webhook_server: WebhookServer, store: Store
) -> None:
    items = []
    for number in range(5):
        path = f"/story/{number}"
        http_server.route(path, body=teaser_page(f"Story {number}"), headers={"Content-Type": "text/html"})
        items.append(Item(f"Story {number}", http_server.url(path)))
    url = http_server.route("/feed.xml", body=rss(items), headers={"Content-Type": "application/rss+xml"})
    job = FeedJob("teasers", url, 900, True)
    watch = HealthWatch(WEEK, [HealthNotifier("ops", (webhook_server.apprise_url("/health"),))], 5.0)

    assert poll(store, job, watch, NOW).new_entries == 5
    assert [post.json["message"] for post in webhook_server.posts] == ["feed teasers is now paywalled"]
    poll(store, job, watch, NOW + timedelta(hours=1))  # nothing new, nothing changed: no second message
    assert len(webhook_server.posts) == 1

    poll(store, job, watch, NOW + timedelta(days=7))
    assert webhook_server.posts[-1].json["message"] == "feed teasers is now silent (now: silent,paywalled)"
    assert len(webhook_server.posts) == 2
    samples = store.health.samples("teasers")
    assert (
        samples.entry_times == (NOW,) and len(samples.pages) == 5 and samples.told_state == "silent,paywalled"
    )


def test_failing_and_recovering_feed(
    http_server: LocalServer, webhook_server: WebhookServer, store: Store
) -> None:
    url = http_server.route("/feed.xml", status=500)
    job = FeedJob("flaky", url, 900, False)
    watch = HealthWatch(WEEK, [HealthNotifier("ops", (webhook_server.apprise_url("/h"),))], 5.0)
    for minute in range(2):
        poll(store, job, watch, NOW + timedelta(minutes=minute))
    assert webhook_server.posts == []  # two failures in a row are not "failing" yet
    poll(store, job, watch, NOW + timedelta(minutes=2))
    http_server.route("/feed.xml", body=rss([Item("Back", "https://example.org/back")]))
    poll(store, job, watch, NOW + timedelta(hours=3))
    poll(store, job, watch, NOW + timedelta(hours=4))
    assert [post.json["message"] for post in webhook_server.posts] == [
        "feed flaky is now failing",
        "feed flaky is no longer failing",
    ]


def test_status_shows_health(tmp_path: Path, http_server: LocalServer) -> None:
    url = http_server.route("/feed.xml", body=rss([Item("One", "https://example.org/1")]))
    config = write_config(
        tmp_path,
        monitor={"fulltext": False, "silent_after": "3d"},
        feeds=[{"name": "news", "url": url}],
        watchlists=[{"name": "arms", "terms": ["Wescam"]}],
    )
    assert cli_inline(config, "poll").returncode == 0
    shown = cli_inline(config, "status", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    (feed,) = json.loads(shown.stdout)["feeds"]
    assert feed["silent"] is False and feed["paywalled"] is False
    assert feed["usual_gap_s"] is None and feed["fulltext_rate"] is None
    assert feed["last_new_entry"] is not None and feed["health"] == "ok"
    table = cli_inline(config, "status")
    assert "HEALTH" in table.stdout and "FULLTEXT_RATE" in table.stdout


def test_health_notify_must_name_a_notifier(tmp_path: Path) -> None:
    config = write_config(tmp_path, monitor={"health_notify": ["ops"]}, notifiers=[{"name": "console"}])
    with pytest.raises(ConfigError, match=r"health_notify names unknown notifier 'ops' \(defined: console\)"):
        load_config(config, {})
    good = write_config(
        tmp_path,
        monitor={"health_notify": ["console"], "silent_after": "2d"},
        notifiers=[{"name": "console"}],
    )
    assert load_config(good, {}).settings.monitor.silent_after == 2 * DAY


def test_each_page_keeps_its_own_last_text(store: Store) -> None:
    assert store.health.page_text("reports") is None  # before the first poll
    store.health.save_page_text("reports", "Permits to Turkey were suspended.")
    store.health.save_page_text("notices", "Wescam sensors were named.")
    store.health.save_page_text("reports", "Permits to Turkey were suspended again.")
    assert store.health.page_text("reports") == "Permits to Turkey were suspended again."
    assert store.health.page_text("notices") == "Wescam sensors were named."
    assert store.health.page_text("other") is None
