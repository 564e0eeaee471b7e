"""The feeds' state and health, as `monitor status` prints it and the desk's feeds page shows it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from monitor.health_watch import health_columns
from monitor.models import FeedState
from monitor.redact import mask_url
from monitor.store import Store


def feed_rows(
    sources: Mapping[str, str], silent_after: float, store: Store, now: datetime
) -> list[dict[str, Any]]:
    """One row per configured feed or page (``sources``: the URL of each by name): poll state (status, next
    poll, errors) and health (last new entry, silent after ``silent_after`` seconds, full-text rate). Syncs the
    configured feeds into the store first, as a poll would."""
    store.sync_feeds(dict(sources))
    samples = store.health.all_samples()
    return [
        {**feed_row(s), **health_columns(samples.get(s.name), s.consecutive_failures, silent_after, now)}
        for s in store.feed_states()
        if s.name in sources
    ]


def feed_row(state: FeedState) -> dict[str, Any]:
    return {
        "name": state.name,
        "url": mask_url(state.url),
        "moved_to": state.current_url,
        "last_polled": state.last_polled,
        "last_status": state.last_status or "never",
        "last_error": state.last_error,
        "consecutive_failures": state.consecutive_failures,
        "entries_seen": state.entries_seen,
        "next_poll": state.next_poll,
        "backoff": state.consecutive_failures > 0,
        "gone": state.gone,
    }
