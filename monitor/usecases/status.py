"""The feeds' state and health, as `monitor status` prints it and the desk's feeds page shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.config.compiled import Config
from monitor.health_watch import health_columns
from monitor.models import FeedState
from monitor.redact import mask_url
from monitor.store import Store


def feed_rows(config: Config, store: Store, now: datetime) -> list[dict[str, Any]]:
    """One row per configured feed or page: poll state (status, next poll, errors) and health (last new entry,
    silent, full-text rate). Syncs the configured feeds into the store first, as a poll would."""
    store.sync_feeds({job.name: job.url for job in config.jobs})
    configured = {job.name for job in config.jobs}
    samples = store.health.all_samples()
    silent_after = config.settings.monitor.silent_after
    return [
        {**feed_row(s), **health_columns(samples.get(s.name), s.consecutive_failures, silent_after, now)}
        for s in store.feed_states()
        if s.name in configured
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
