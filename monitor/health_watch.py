"""Applying source health after each poll: keep the feed's samples, judge its health (``monitor.health``), and
when it changed, tell the ``[monitor] health_notify`` notifiers once."""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.health import (
    RECENT_PAGES,
    Health,
    HealthChange,
    PageSample,
    assess,
    health_change,
    keep_recent,
    page_sample,
)
from monitor.store.health import HealthSamples

log = logging.getLogger("monitor.health")


@dataclass(frozen=True, slots=True)
class HealthNotifier:
    """A notifier that hears about health changes: its name and apprise URLs (none: the log)."""

    name: str
    urls: tuple[str, ...]


def health_of(
    samples: HealthSamples, consecutive_failures: int, silent_after: float, now: datetime
) -> Health:
    pages = [PageSample(fulltext, marker) for fulltext, marker in samples.pages]
    return assess(samples.entry_times, pages, consecutive_failures, silent_after, now)


@dataclass(frozen=True, slots=True)
class HealthStep:
    keep: HealthSamples | None  # the samples to store; None when the poll changed nothing
    change: HealthChange | None  # the change to tell, if any


@dataclass(slots=True)
class HealthWatch:
    silent_after: float
    notifiers: Sequence[HealthNotifier] = ()
    timeout: float = 30.0

    def step(
        self,
        feed: str,
        before: HealthSamples,
        new_entries: int,
        page_texts: Sequence[str],
        consecutive_failures: int,
        now: datetime,
    ) -> HealthStep:
        """What a poll does to the feed's health samples (``before``: as stored), and the change to tell."""
        times = keep_recent(before.entry_times, [now] if new_entries else [])
        pages = (*before.pages, *((s.fulltext, s.paywall_marker) for s in map(page_sample, page_texts)))
        pages = pages[-RECENT_PAGES:]
        health = health_of(HealthSamples(times, pages), consecutive_failures, self.silent_after, now)
        change = health_change(feed, before.told_state, health.state)
        kept = HealthSamples(tuple(times), tuple(pages), health.state)
        unchanged = kept == HealthSamples(tuple(before.entry_times), tuple(before.pages), before.told_state)
        return HealthStep(None if unchanged else kept, change)  # a poll that changed nothing writes nothing

    async def tell(self, change: HealthChange) -> None:
        from monitor.notify import Message, log_message, send_message

        log.warning("health %s", change.message)
        text = change.message
        message = Message(title=f"monitor: {text}", text=text, html=f"<p>{html.escape(text)}</p>")
        for notifier in self.notifiers:
            if not notifier.urls:
                log_message(log, notifier.name, message)
                continue
            for result in await send_message(notifier.urls, message, timeout=self.timeout):
                if not result.ok:
                    log.warning(
                        "health message to %s %s failed: %s", notifier.name, result.target, result.error
                    )


def health_columns(
    samples: HealthSamples | None, consecutive_failures: int, silent_after: float, now: datetime
) -> dict[str, object]:
    """The health keys of a feed's row in `monitor status`."""
    health = health_of(samples or HealthSamples(), consecutive_failures, silent_after, now)
    rate = health.fulltext_rate
    return {
        "last_new_entry": health.last_new_entry,
        "usual_gap_s": round(health.usual_gap_s) if health.usual_gap_s is not None else None,
        "silent": health.silent,
        "fulltext_rate": round(rate, 2) if rate is not None else None,
        "paywalled": health.paywalled,
        "health": health.state,
    }
