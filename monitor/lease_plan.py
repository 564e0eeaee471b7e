"""Pure decisions of the PostgreSQL lease loop: how many due feeds to claim, whether a feed is due or its lease
free, whether a lease still held leaves time to store a poll's results, and when the next poll falls on the
database's clock. Every time here comes in as an argument (the database's ``now`` for leases)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

RENEW_FRACTION = 1 / 3  # leases are renewed when a third of their time has passed
MIN_STORE_MARGIN = 1.0  # seconds


@dataclass(frozen=True, slots=True)
class LeaseTiming:
    lease: float  # seconds a claim holds a feed
    capacity: int  # feeds one daemon polls at once
    batch: int  # feeds claimed in one statement at most

    @property
    def renew_every(self) -> float:
        return self.lease * RENEW_FRACTION

    @property
    def store_margin(self) -> float:
        """A lease must have this long left when a poll stores its results: the store then finishes well
        before any other daemon could take the feed."""
        return max(MIN_STORE_MARGIN, self.lease / 4)


def claim_size(timing: LeaseTiming, in_flight: int) -> int:
    """How many due feeds to claim now: never more than the free poll slots, nor more than one batch."""
    return max(0, min(timing.batch, timing.capacity - in_flight))


def claim_now(timing: LeaseTiming, in_flight: int, since_last_claim: float, tick: float) -> bool:
    """Whether to claim now: at every tick, and between ticks only once a quarter of the poll slots are free,
    so that a busy daemon claims in batches rather than once for every poll that ends."""
    free = timing.capacity - in_flight
    return free > 0 and (since_last_claim >= tick or free >= max(1, timing.capacity // 4))


def is_due(next_poll: datetime, now: datetime) -> bool:
    """A feed is due from its next poll time on (due exactly now counts)."""
    return next_poll <= now


def lease_free(leased_by: str | None, expires: datetime | None, now: datetime) -> bool:
    """A feed may be claimed when nobody holds it or its lease has run out (expiring exactly now has run out)."""
    return leased_by is None or expires is None or expires <= now


def claimable(next_poll: datetime, leased_by: str | None, expires: datetime | None, now: datetime) -> bool:
    return is_due(next_poll, now) and lease_free(leased_by, expires, now)


def may_store(holder: str | None, expires: datetime | None, owner: str, now: datetime, margin: float) -> bool:
    """Whether ``owner`` may store a poll's results: it still holds the lease, with ``margin`` seconds left."""
    return holder == owner and expires is not None and expires - timedelta(seconds=margin) > now


def lease_deadline(sent_at: float, lease: float) -> float:
    """When a lease claimed or renewed by a statement sent at ``sent_at`` (this process's monotonic clock) ends
    at the latest as this process can tell: the database set its expiry to its own ``now() + lease``, and its
    ``now()`` came after the statement was sent. The monotonic clock does not jump when the wall clock does."""
    return sent_at + lease


def still_held(deadline: float | None, now: float, margin: float) -> bool:
    """Whether a lease with this local deadline leaves ``margin`` seconds to store a poll's results."""
    return deadline is not None and deadline - margin > now


def next_poll_delay(planned: datetime | None, decided_at: datetime, default: float) -> float:
    """The wait the poll decided (its next poll time minus the process time it decided at), to be added to the
    database's clock; a poll that decided nothing waits ``default`` (its interval)."""
    if planned is None:
        return default
    return max(0.0, (planned - decided_at).total_seconds())


def first_poll_offset(index: int, count: int, interval: float) -> float:
    """Seconds after now that a feed never polled before first comes due: spread over its first interval."""
    return interval * index / max(count, 1)


def reconnect_delay(attempt: int, *, first: float = 1.0, cap: float = 30.0) -> float:
    """Seconds to wait before reconnection attempt ``attempt`` (1, 2, ...): doubling from ``first`` up to ``cap``."""
    return float(min(cap, first * 2.0 ** max(0, attempt - 1)))
