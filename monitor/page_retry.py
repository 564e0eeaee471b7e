"""When to fetch an article page again after it failed: pure decisions of values and ``now``.

An article whose page failed for a passing reason (a timeout, a refused connection, 5xx, a worker that died)
is stored with no text and a pending page fetch. Each later failure waits longer (2 min, 10 min, 1 h, then
every 6 h) until ``notify_max_age`` after the first failure, when an alert would no longer be sent anyway.
A page that kills or outlasts its worker is tried at most ``MAX_CRASHES`` times in all: it may do it again.
Permanent failures (404, 410, not HTML, too large) are never retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

RETRY_DELAYS = (120.0, 600.0, 3600.0, 6 * 3600.0)  # after the 1st, 2nd, 3rd, and every later failure
MAX_CRASHES = 3


@dataclass(frozen=True, slots=True)
class PageFailure:
    """Why an article page gave no text, and whether trying again could help."""

    reason: str
    transient: bool
    crashed: bool = False  # the worker died or ran out of time on it


def retry_delay(failures: int) -> float:
    """Seconds to wait after the ``failures``-th failed fetch in a row (1 = the first)."""
    return RETRY_DELAYS[min(max(failures, 1), len(RETRY_DELAYS)) - 1]


def next_attempt(
    failure: PageFailure,
    *,
    failures: int,
    crashes: int,
    first_failed: datetime,
    now: datetime,
    max_age: float,
) -> datetime | None:
    """When to fetch the page again after this failure, or None to give up on it.

    ``failures`` counts the failed fetches so far, this one included; ``crashes`` the ones that crashed."""
    if not failure.transient or crashes >= MAX_CRASHES:
        return None
    at = now + timedelta(seconds=retry_delay(failures))
    if at > first_failed + timedelta(seconds=max_age):
        return None
    return at


def is_due(next_attempt_at: datetime, now: datetime) -> bool:
    return next_attempt_at <= now
