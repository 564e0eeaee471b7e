"""Feed leases: the pure decisions of the lease loop at their boundaries, and the lease store on a real PostgreSQL
database (claims in batches, SKIP LOCKED between concurrent claimers, renewals, releases, the database's clock)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, update

from monitor.lease_loop import LeaseLoop
from monitor.lease_plan import (
    LeaseTiming,
    claim_now,
    claim_size,
    claimable,
    first_poll_offset,
    is_due,
    lease_deadline,
    lease_free,
    may_store,
    next_poll_delay,
    reconnect_delay,
    still_held,
)
from monitor.models import FeedJob, PollResult
from monitor.store import Store
from monitor.store.leases import FeedLeases, after, db_now
from monitor.store.tables import feed_leases

pytestmark = pytest.mark.timeout(120)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TIMING = LeaseTiming(lease=120.0, capacity=40, batch=20)


# the pure decisions -------------------------------------------------------------------------------------------


def test_due_exactly_now_is_due_and_a_microsecond_later_is_not() -> None:
    assert is_due(NOW, NOW)
    assert is_due(NOW - timedelta(seconds=1), NOW)
    assert not is_due(NOW + timedelta(microseconds=1), NOW)


def test_a_lease_expiring_exactly_now_is_free() -> None:
    assert lease_free("a", NOW, NOW)
    assert lease_free(None, None, NOW)
    assert not lease_free("a", NOW + timedelta(microseconds=1), NOW)
    assert claimable(NOW, "a", NOW, NOW)
    assert not claimable(NOW, "a", NOW + timedelta(seconds=5), NOW)
    assert not claimable(NOW + timedelta(seconds=1), None, None, NOW)


def test_a_holder_without_an_expiry_holds_nothing() -> None:
    """A lease row naming a holder but no expiry (a claim cut short) never keeps the feed from being polled."""
    assert lease_free("a", None, NOW)
    assert claimable(NOW, "a", None, NOW)


def test_claim_size_fills_free_slots_one_batch_at_most() -> None:
    assert claim_size(TIMING, 0) == 20  # one batch
    assert claim_size(TIMING, 25) == 15  # the free slots
    assert claim_size(TIMING, 40) == 0
    assert claim_size(TIMING, 45) == 0  # never negative
    assert claim_size(LeaseTiming(lease=60, capacity=5, batch=20), 0) == 5


def test_storing_needs_the_lease_with_its_margin_left() -> None:
    margin = TIMING.store_margin
    assert margin == 30.0 and TIMING.renew_every == 40.0
    assert may_store("me", NOW + timedelta(seconds=31), "me", NOW, margin)
    assert not may_store("me", NOW + timedelta(seconds=30), "me", NOW, margin)  # exactly the margin: no
    assert not may_store("other", NOW + timedelta(minutes=2), "me", NOW, margin)
    assert not may_store(None, None, "me", NOW, margin)
    assert LeaseTiming(lease=2, capacity=1, batch=1).store_margin == 1.0


def test_next_poll_delay_and_first_polls_and_reconnect_backoff() -> None:
    assert next_poll_delay(NOW + timedelta(seconds=90), NOW, 10) == 90
    assert next_poll_delay(NOW - timedelta(seconds=5), NOW, 10) == 0  # overdue: due at once
    assert next_poll_delay(None, NOW, 10) == 10
    assert [first_poll_offset(i, 4, 100) for i in range(4)] == [0, 25, 50, 75]
    assert first_poll_offset(0, 0, 100) == 0
    assert [reconnect_delay(n) for n in (1, 2, 3, 6, 7, 20)] == [1, 2, 4, 30, 30, 30]


# the store on PostgreSQL --------------------------------------------------------------------------------------


@pytest.fixture
def engine(pg_url: str) -> Engine:
    store = Store.open(pg_url)
    return store.engine


def due_feeds(engine: Engine, count: int, *, in_seconds: float = -1.0) -> list[str]:
    names = [f"feed{i:04d}" for i in range(count)]
    FeedLeases(engine, "setup").add_missing(dict.fromkeys(names, in_seconds))
    return names


def test_claim_takes_due_free_feeds_in_batches_oldest_first(engine: Engine) -> None:
    names = due_feeds(engine, 10)
    later = FeedLeases(engine, "setup")
    later.add_missing({"later": 3600.0})
    a, b = FeedLeases(engine, "a"), FeedLeases(engine, "b")
    first = a.claim([*names, "later"], 4, 60)
    assert len(first) == 4
    second = b.claim([*names, "later"], 100, 60)
    assert sorted(first + second) == names  # the not-yet-due feed is nobody's; no feed twice
    assert b.claim(names, 100, 60) == [] and a.claim(names, 0, 60) == []
    assert a.held_counts() == {"a": 4, "b": 6}
    assert a.claim(["unknown"], 5, 60) == []


def test_a_lease_that_ran_out_is_taken_and_its_old_holder_may_not_store(engine: Engine) -> None:
    [name] = due_feeds(engine, 1)
    a, b = FeedLeases(engine, "a"), FeedLeases(engine, "b")
    assert a.claim([name], 1, 60) == [name]
    assert a.holds(name, margin=1.0) and not b.holds(name, margin=1.0)
    assert not a.holds(name, margin=61.0)  # less than the margin left
    assert b.claim([name], 1, 60) == []  # held
    with engine.begin() as conn:  # the lease runs out (as if a minute passed on the database's clock)
        conn.execute(update(feed_leases).values(lease_expires=db_now() - timedelta(microseconds=1)))
    assert b.claim([name], 1, 60) == [name]
    assert not a.holds(name, margin=1.0)
    assert a.renew([name], 60) == set()  # a lost it: renewing does not take it back
    assert not a.release(name, 10.0)  # nor does releasing change b's schedule
    assert b.renew([name], 60) == {name}


def test_release_schedules_the_next_poll_on_the_database_clock(engine: Engine) -> None:
    [name] = due_feeds(engine, 1)
    a = FeedLeases(engine, "a")
    assert a.claim([name], 1, 60) == [name]
    before = a.now()
    assert a.release(name, 300.0)
    with engine.begin() as conn:
        row = conn.execute(feed_leases.select()).one()
    assert row.leased_by is None and row.lease_expires is None
    assert before + timedelta(seconds=299) <= row.next_poll_at <= a.now() + timedelta(seconds=301)
    assert a.claim([name], 1, 60) == []  # not due for five minutes
    with engine.begin() as conn:
        conn.execute(update(feed_leases).values(next_poll_at=after(-1)))
    assert a.claim([name], 1, 60) == [name]
    assert a.release_all() == 1 and a.held_counts() == {}


def test_add_missing_keeps_existing_schedules(engine: Engine) -> None:
    a = FeedLeases(engine, "a")
    a.add_missing({"x": 3600.0})
    a.add_missing({"x": -5.0, "y": -5.0})  # another daemon starting: x keeps its schedule
    assert a.claim(["x", "y"], 10, 60) == ["y"]
    assert a.known() == {"x", "y"}


def test_two_connections_claiming_concurrently_never_get_the_same_feed(pg_url: str, engine: Engine) -> None:
    names = due_feeds(engine, 300)
    got: dict[str, list[str]] = {"a": [], "b": [], "c": []}

    def claim_all(owner: str) -> None:
        leases = FeedLeases(Store.open(pg_url, migrate=False).engine, owner)  # its own engine: a process
        while batch := leases.claim(names, 7, 60):
            got[owner] += batch

    threads = [threading.Thread(target=claim_all, args=(owner,)) for owner in got]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [name for batch in got.values() for name in batch]
    assert sorted(everything) == names  # every feed once, none twice
    assert sum(1 for batch in got.values() if batch) >= 2  # they did claim side by side


def test_a_daemon_whose_clock_jumps_cannot_take_a_held_feed(engine: Engine) -> None:
    """Leases are on the database's clock: a daemon whose own clock is a day ahead claims nothing that another
    daemon holds, and its feeds come due by the database's clock, not its own."""
    [name] = due_feeds(engine, 1)
    assert FeedLeases(engine, "a").claim([name], 1, 60) == [name]
    polled: list[str] = []

    async def poll(job: FeedJob) -> PollResult:
        polled.append(job.name)
        return PollResult(job.name, "ok")

    jumped = LeaseLoop(
        FeedLeases(engine, "b"),
        TIMING,
        lambda: {name: FeedJob(name, "http://127.0.0.1:9/", 10.0, False)},
        poll,
        lambda: datetime.now(UTC) + timedelta(days=1),
        dict,
    )

    async def one_round() -> None:
        jumped.sync()
        jumped._claim()
        await asyncio.sleep(0.05)

    asyncio.run(one_round())
    assert polled == [] and jumped.polling == {}


def test_a_lease_deadline_is_known_locally_from_when_the_claim_was_sent() -> None:
    deadline = lease_deadline(100.0, 20.0)
    assert deadline == 120.0
    assert still_held(deadline, 114.9, 5.0)
    assert not still_held(deadline, 115.0, 5.0)  # exactly the margin left: no
    assert not still_held(None, 0.0, 5.0)  # never claimed, or already released


def test_a_busy_daemon_claims_in_batches_between_ticks() -> None:
    assert claim_now(TIMING, 0, 0.0, 1.0)  # all slots free
    assert claim_now(TIMING, 30, 0.0, 1.0)  # a quarter free (10 of 40)
    assert not claim_now(TIMING, 31, 0.5, 1.0)  # fewer: wait for the tick
    assert claim_now(TIMING, 39, 1.0, 1.0)  # the tick came (exactly)
    assert not claim_now(TIMING, 40, 5.0, 1.0)  # no free slot
    # a daemon of fewer than 4 slots (a quarter rounds to none) claims between ticks as soon as one is free
    small = LeaseTiming(lease=120.0, capacity=3, batch=20)
    assert claim_now(small, 2, 0.0, 1.0)
    assert not claim_now(small, 3, 0.0, 1.0)
    # with 8 slots a quarter is two: one free slot waits for the tick
    assert not claim_now(LeaseTiming(lease=120.0, capacity=8, batch=20), 7, 0.0, 1.0)
    assert claim_now(LeaseTiming(lease=120.0, capacity=8, batch=20), 6, 0.0, 1.0)
