"""``/metrics`` in the Prometheus text format.

Everything is read from the database at scrape time (a custom collector), so ``monitor web`` standing alone
reports the same figures as a desk served by the daemon, and two daemons on one database agree: feeds by last
poll status, failures in a row, entries found, stored articles and hits, deliveries by notifier and status, the
outbox and page-retry queues, the daemon's heartbeat. When the daemon serves the desk, its own process adds
the counters only it can see (polls by status, poll and delivery durations: ``monitor.telemetry``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor import telemetry
from monitor.store.gauges import StoreGauges, read_gauges
from monitor.web.access import require_reader
from monitor.web.reading import reading_store

WAITING = ("pending", "failed")  # delivery statuses still to be sent (failed ones are tried again)
NEVER = "never"  # the status label of feeds not polled yet


def _timestamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0


def families(gauges: StoreGauges) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    """The metric families the database's figures give."""
    by_status = GaugeMetricFamily(
        "monitor_feeds", "Feeds by the status of their last poll", labels=["status"]
    )
    statuses: dict[str, int] = {}
    for feed in gauges.feeds:
        status = "gone" if feed.gone else feed.last_status or NEVER
        statuses[status] = statuses.get(status, 0) + 1
    for status, count in sorted(statuses.items()):
        by_status.add_metric([status], count)
    yield by_status

    failures = GaugeMetricFamily(
        "monitor_feed_consecutive_failures", "Failed polls in a row, per feed", labels=["feed"]
    )
    entries = CounterMetricFamily("monitor_feed_entries", "New entries found, per feed", labels=["feed"])
    last_poll = GaugeMetricFamily(
        "monitor_feed_last_poll_timestamp_seconds",
        "When each feed was last polled (0: never)",
        labels=["feed"],
    )
    next_poll = GaugeMetricFamily(
        "monitor_feed_next_poll_timestamp_seconds", "When each feed is due (0: not planned)", labels=["feed"]
    )
    for feed in gauges.feeds:
        failures.add_metric([feed.name], feed.consecutive_failures)
        entries.add_metric([feed.name], feed.entries_seen)
        last_poll.add_metric([feed.name], _timestamp(feed.last_polled))
        next_poll.add_metric([feed.name], _timestamp(feed.next_poll))
    yield from (failures, entries, last_poll, next_poll)

    yield GaugeMetricFamily("monitor_articles_stored", "Articles in the archive", value=gauges.articles)
    stored = GaugeMetricFamily("monitor_hits_stored", "Stored hits, per watchlist", labels=["watchlist"])
    alerted = GaugeMetricFamily(
        "monitor_hits_alerted", "Stored hits that alerted, per watchlist", labels=["watchlist"]
    )
    for watchlist, count in sorted(gauges.hits.items()):
        stored.add_metric([watchlist], count)
        alerted.add_metric([watchlist], gauges.alerted_hits.get(watchlist, 0))
    yield from (stored, alerted)

    deliveries = GaugeMetricFamily(
        "monitor_deliveries", "Deliveries by notifier and status", labels=["notifier", "status"]
    )
    waiting = 0
    for (notifier, status), count in sorted(gauges.deliveries.items()):
        deliveries.add_metric([notifier, status], count)
        waiting += count if status in WAITING else 0
    yield deliveries
    yield GaugeMetricFamily(
        "monitor_outbox_pending",
        "Deliveries waiting to be sent (pending or failed and due again)",
        value=waiting,
    )
    yield GaugeMetricFamily(
        "monitor_page_retries_pending", "Pages waiting to be fetched again", value=gauges.page_retries
    )
    yield GaugeMetricFamily(
        "monitor_daemon_heartbeat_timestamp_seconds",
        "The running daemon's last heartbeat (0: no daemon recorded)",
        value=_timestamp(gauges.heartbeat),
    )


class StoreCollector(Collector):
    """Reads the database at each scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield from families(read_gauges(self.engine))


def exposition(engine: Engine) -> bytes:
    """The text a scrape gets: the database's figures, and this process's own counters when it has any."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(engine))
    return generate_latest(registry) + generate_latest(telemetry.REGISTRY)


def metrics_endpoint(request: Request) -> Response:
    require_reader(request)
    return Response(exposition(reading_store(request).engine), media_type=CONTENT_TYPE_LATEST)


def routes() -> list[BaseRoute]:
    return [Route("/metrics", metrics_endpoint, methods=["GET"])]
