"""The daemon's in-process counters and durations, for ``/metrics`` when the daemon serves the desk: what the
database does not keep (each poll's outcome and duration, each delivery run's duration). A process that polls
nothing (``monitor web`` alone) reports them at zero; the database's own figures are in ``monitor.web.metrics``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

from monitor.models import PollResult

# The *_created series (when each counter started) say nothing a scrape's own process-start time does not.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry(auto_describe=True)
# Poll durations run from a cached 304 (tens of milliseconds) to a slow page fetch past its timeout.
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
STATUSES = ("ok", "not-modified", "error")

polls = Counter("monitor_polls", "Feed polls by outcome", ["status"], registry=REGISTRY)
poll_entries = Counter("monitor_poll_entries", "New entries found by this process's polls", registry=REGISTRY)
poll_hits = Counter("monitor_poll_hits", "Hits stored by this process's polls", registry=REGISTRY)
poll_seconds = Histogram(
    "monitor_poll_duration_seconds", "One feed's poll, end to end", buckets=POLL_BUCKETS, registry=REGISTRY
)
delivery_seconds = Histogram(
    "monitor_delivery_run_duration_seconds",
    "One run of the delivery job",
    buckets=POLL_BUCKETS,
    registry=REGISTRY,
)
for _status in STATUSES:
    polls.labels(_status)  # every outcome is shown from the start, at zero


def observe_poll(result: PollResult) -> None:
    """Count one poll's outcome."""
    polls.labels(result.status).inc()
    poll_entries.inc(result.new_entries)
    poll_hits.inc(result.hits)
    poll_seconds.observe(result.elapsed)


def observe_delivery_run(seconds: float) -> None:
    delivery_seconds.observe(seconds)
