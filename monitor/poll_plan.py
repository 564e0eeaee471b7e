"""What a poll's outcome does to a feed's schedule and stored state, decided from values alone.

``plan`` reads the feed's state, what the poll found, ``now``, the limits and a random source, and returns the
``FeedUpdate`` the store applies. Nothing here touches the network, the database or the clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.models import FeedState, FeedUpdate

BACKOFF_JITTER = 0.1  # a failing feed's delay grows by up to 10 %, so failing feeds drift apart


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll found, as far as the feed's schedule cares."""

    status: str  # ok, not-modified, error
    new_entries: int = 0
    error: str | None = None
    retry_after: float | None = None  # seconds the server asked us to wait (Retry-After)
    gone: bool = False  # the server said the feed is gone for good (410)
    etag: str | None = None
    last_modified: str | None = None
    redirect: str | None = None  # where a permanent redirect pointed

    @classmethod
    def failed(cls, reason: str, *, retry_after: float | None = None, gone: bool = False) -> PollOutcome:
        return cls("error", error=reason, retry_after=retry_after, gone=gone)


@dataclass(frozen=True, slots=True)
class PollTiming:
    interval: float  # seconds between polls of a healthy feed
    max_backoff: float  # the longest a failing feed waits (never shorter than its interval)


def plan(
    state: FeedState, outcome: PollOutcome, now: datetime, timing: PollTiming, rng: random.Random
) -> FeedUpdate:
    """The feed's state after a poll: a success resets the failures and polls again after one interval; a
    failure backs off."""
    if outcome.status == "error":
        failures = state.consecutive_failures + 1
        delay = backoff_delay(timing.interval, failures, timing.max_backoff, outcome.retry_after, rng)
        return FeedUpdate(
            feed=state.name,
            polled_at=now,
            status="error",
            next_poll=now + timedelta(seconds=delay),
            consecutive_failures=failures,
            entries_seen=None,
            error=outcome.error,
            gone=outcome.gone,
        )
    return FeedUpdate(
        feed=state.name,
        polled_at=now,
        status=outcome.status,
        next_poll=now + timedelta(seconds=timing.interval),
        consecutive_failures=0,
        entries_seen=state.entries_seen + outcome.new_entries,
        moved_to=moved_to(outcome.redirect, state),
        # A 304 carries no new validators worth keeping: the stored ones still name the version we have.
        validators=(outcome.etag, outcome.last_modified) if outcome.status == "ok" else None,
    )


def backoff_delay(
    interval: float, failures: int, max_backoff: float, retry_after: float | None, rng: random.Random
) -> float:
    """Seconds until the next poll of a failing feed: the interval doubled per failure, capped, jittered by up
    to 10 %, never sooner than the server's Retry-After."""
    delay = float(min(interval * 2 ** max(failures - 1, 0), max(max_backoff, interval)))
    delay *= 1 + rng.random() * BACKOFF_JITTER
    return max(delay, retry_after or 0.0)


def moved_to(redirect: str | None, state: FeedState) -> str | None:
    """The feed's new address when a permanent redirect points somewhere other than where we polled."""
    if redirect and redirect != state.fetch_url:
        return redirect
    return None


def first_poll(state: FeedState, staggered: datetime, now: datetime) -> datetime:
    """When a daemon starting now first polls a feed: at its staggered slot, unless the stored state says it is
    due sooner or, after a failure, later (a feed's backoff survives a restart). Never in the past."""
    if state.next_poll and (state.consecutive_failures or state.next_poll < staggered):
        return max(state.next_poll, now)
    return staggered
