"""``/metrics`` through the real app, parsed with prometheus_client's own parser and checked against what the
database was filled with; the daemon's in-process poll counters show up after a poll."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor import telemetry
from monitor.models import PollResult
from monitor.store.daemons import DaemonRow, Daemons
from tests.archive_corpus import T0
from tests.desk_data import TOKEN, Desk, corpus_with_hostile, open_desk

BEARER = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    yield from open_desk(tmp_path)


def scrape(desk: Desk) -> Samples:
    response = desk.client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def expected_hits(desk: Desk) -> dict[str, int]:
    """Counted apart from the store: the config's matcher over the articles the database was filled with."""
    counts: dict[str, int] = {}
    for article in corpus_with_hostile():
        for match in desk.config.matcher.match(article.fields()):
            counts[match.watchlist] = counts.get(match.watchlist, 0) + 1
    return counts


def test_metrics_need_the_token(desk: Desk) -> None:
    assert desk.client.get("/metrics").status_code == 401
    assert desk.client.get("/metrics", params={"token": TOKEN}).status_code == 200


def test_feed_figures(desk: Desk) -> None:
    samples = scrape(desk)
    assert samples[("monitor_feeds", (("status", "ok"),))] == 1
    assert samples[("monitor_feeds", (("status", "error"),))] == 1
    assert samples[("monitor_feeds", (("status", "never"),))] == 1
    assert samples[("monitor_feed_consecutive_failures", (("feed", "daily"),))] == 3
    assert samples[("monitor_feed_consecutive_failures", (("feed", "wire"),))] == 0
    assert samples[("monitor_feed_entries_total", (("feed", "wire"),))] == 40
    assert samples[("monitor_feed_last_poll_timestamp_seconds", (("feed", "wire"),))] == T0.timestamp()
    assert samples[("monitor_feed_last_poll_timestamp_seconds", (("feed", "gazette"),))] == 0


def test_archive_and_queue_figures(desk: Desk) -> None:
    samples = scrape(desk)
    hits = expected_hits(desk)
    assert samples[("monitor_articles_stored", ())] == len(desk.articles)
    for watchlist, count in hits.items():
        assert samples[("monitor_hits_stored", (("watchlist", watchlist),))] == count
        assert samples[("monitor_hits_alerted", (("watchlist", watchlist),))] == count
    owed = sum(hits.values())  # every hit alerted and is owed to the one notifier
    by_status = {
        status: samples.get(("monitor_deliveries", (("notifier", "console"), ("status", status))), 0)
        for status in ("pending", "sent", "failed")
    }
    assert by_status == {"pending": owed - 2, "sent": 1, "failed": 1}
    assert samples[("monitor_outbox_pending", ())] == owed - 1
    assert samples[("monitor_page_retries_pending", ())] == 2
    assert samples[("monitor_daemon_heartbeat_timestamp_seconds", ())] == 0


def test_the_heartbeat_is_the_latest_of_the_registered_daemons(desk: Desk) -> None:
    registry = Daemons(desk.store.engine)
    for owner, at in (("a", T0 + timedelta(minutes=5)), ("b", T0 + timedelta(minutes=9)), ("c", T0)):
        registry.register(DaemonRow(owner, "desk-host", 100, at, at, "f" * 64, "/etc/monitor.toml"))
    assert (
        scrape(desk)[("monitor_daemon_heartbeat_timestamp_seconds", ())]
        == (T0 + timedelta(minutes=9)).timestamp()
    )
    registry.heartbeat("c", T0 + timedelta(minutes=12))
    assert (
        scrape(desk)[("monitor_daemon_heartbeat_timestamp_seconds", ())]
        == (T0 + timedelta(minutes=12)).timestamp()
    )


def test_polls_counted_in_process_show_up(desk: Desk) -> None:
    before = scrape(desk)
    telemetry.observe_poll(PollResult("wire", "ok", new_entries=4, hits=2, elapsed=0.3))
    telemetry.observe_poll(PollResult("daily", "error", error="timeout", elapsed=12.0))
    after = scrape(desk)

    def grew(name: str, labels: tuple[tuple[str, str], ...] = ()) -> float:
        return after[(name, labels)] - before[(name, labels)]

    assert grew("monitor_polls_total", (("status", "ok"),)) == 1
    assert grew("monitor_polls_total", (("status", "error"),)) == 1
    assert grew("monitor_polls_total", (("status", "not-modified"),)) == 0
    assert grew("monitor_poll_entries_total") == 4
    assert grew("monitor_poll_hits_total") == 2
    assert grew("monitor_poll_duration_seconds_count") == 2
    assert grew("monitor_poll_duration_seconds_bucket", (("le", "0.5"),)) == 1
    assert grew("monitor_poll_duration_seconds_bucket", (("le", "30.0"),)) == 2
