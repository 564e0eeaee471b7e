"""The PostgreSQL daemon's poll loop: claim due feeds, poll them, release them with their next poll time.

Several daemons run this loop on one database. Which feed is due, and who holds it, lives in the database
(``monitor.store.leases``), so schedules survive restarts and move between daemons, and a daemon that dies
loses its feeds when their leases run out. When the database cannot be reached, the loop stops claiming,
reconnects with backoff and resumes; a poll whose lease was lost meanwhile stores nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from monitor.lease_plan import (
    LeaseTiming,
    claim_now,
    claim_size,
    first_poll_offset,
    lease_deadline,
    next_poll_delay,
    reconnect_delay,
    still_held,
)
from monitor.models import FeedJob, PollResult
from monitor.store.engine import describe_failure
from monitor.store.leases import FeedLeases

log = logging.getLogger("monitor.leases")

TICK = 1.0  # seconds between claims when no poll finished meanwhile
Poll = Callable[[FeedJob], Awaitable[PollResult]]


class LeaseLoop:
    def __init__(
        self,
        leases: FeedLeases,
        timing: LeaseTiming,
        jobs: Callable[[], Mapping[str, FeedJob]],
        poll: Poll,
        clock: Callable[[], datetime],
        known_next: Callable[[], Mapping[str, datetime | None]],
    ) -> None:
        self.leases = leases
        self.timing = timing
        self.jobs = jobs  # the config's feeds now (a reload changes them)
        self.poll = poll
        self.clock = clock
        self.known_next = known_next  # each feed's next poll as the store knew it before leases (None: never)
        self.polling: dict[str, asyncio.Task[None]] = {}
        self.lost: set[str] = set()  # feeds whose lease ran out during their poll: nothing of it is stored
        self.deadlines: dict[str, float] = {}  # when each lease held ends at the latest (monotonic clock)
        self.connected = True
        self.needs_sync = True
        self.freed = asyncio.Event()
        self.stopping = asyncio.Event()
        self._last_renew = 0.0
        self._last_claim = 0.0

    # the loop ----------------------------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        while not self.stopping.is_set():
            try:
                if not self.connected:
                    self.leases.now()  # raises while the database is still away
                    log.warning("database connection back after %d attempt(s); claiming feeds again", attempt)
                    self.connected, attempt = True, 0
                if self.needs_sync:
                    self.sync()
                self._renew_if_due(loop.time())
                if claim_now(self.timing, len(self.polling), loop.time() - self._last_claim, TICK):
                    self._claim()
                    self._last_claim = loop.time()
            except SQLAlchemyError as exc:
                attempt += 1
                if self.connected:
                    log.error(
                        "database connection lost (%s): not claiming feeds; %d poll(s) in flight store nothing "
                        "unless their lease is confirmed; reconnecting",
                        describe_failure(exc),
                        len(self.polling),
                    )
                self.connected = False
                self.needs_sync = True
                delay = reconnect_delay(attempt)
                log.info("reconnecting to the database in %gs (attempt %d)", delay, attempt)
                await self._sleep(delay)
                continue
            await self._sleep(TICK)

    async def _sleep(self, seconds: float) -> None:
        self.freed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_first(self.freed.wait(), self.stopping.wait()), timeout=seconds)

    def sync(self) -> None:
        """Give the configured feeds that have no lease row one, their first polls spread over an interval."""
        jobs = self.jobs()
        missing = sorted(jobs.keys() - self.leases.known())
        if not missing:
            self.needs_sync = False
            return
        offsets: dict[str, float] = {}
        now = self.clock()
        before = self.known_next()
        for index, name in enumerate(missing):
            job = jobs[name]
            known = before.get(name)
            offsets[name] = (
                max(0.0, (known - now).total_seconds())
                if known is not None
                else first_poll_offset(index, len(missing), job.interval)
            )
        self.leases.add_missing(offsets)
        log.info("%d feed(s) without a schedule in the database scheduled", len(offsets))
        self.needs_sync = False

    def _claim(self) -> None:
        count = claim_size(self.timing, len(self.polling))
        if count <= 0:
            return
        names = [name for name in self.jobs() if name not in self.polling]
        sent_at = time.monotonic()
        for name in self.leases.claim(names, count, self.timing.lease):
            self.lost.discard(name)
            self.deadlines[name] = lease_deadline(sent_at, self.timing.lease)
            self.polling[name] = asyncio.create_task(self._poll_one(name), name=f"poll:{name}")

    def _renew_if_due(self, at: float) -> None:
        if at - self._last_renew < self.timing.renew_every or not self.polling:
            return
        sent_at = time.monotonic()
        held = self.leases.renew(self.polling, self.timing.lease)
        for name in held:
            self.deadlines[name] = lease_deadline(sent_at, self.timing.lease)
        for name in self.polling.keys() - held:
            if name not in self.lost:
                log.warning("feed=%s lease lost during its poll: its results are dropped", name)
                self.lost.add(name)
        self._last_renew = at

    # one feed ----------------------------------------------------------------------------------------------

    async def _poll_one(self, name: str) -> None:
        try:
            job = self.jobs().get(name)
            if job is None:  # no longer in this daemon's config: let another daemon have it
                self._release(name, 0.0)
                return
            result = await self.poll(job)
            if result.status == "lease-lost" or name in self.lost:
                log.warning("feed=%s lease lost: nothing of this poll stored; its new holder polls it", name)
                return
            self._release(name, next_poll_delay(result.next_poll, self.clock(), job.interval))
        finally:
            self.polling.pop(name, None)
            self.deadlines.pop(name, None)
            self.freed.set()

    def _release(self, name: str, delay: float) -> None:
        try:
            if not self.leases.release(name, delay):
                log.warning("feed=%s lease had been taken over when its poll ended", name)
        except SQLAlchemyError as exc:
            log.warning("feed=%s lease not released (%s): it expires on its own", name, describe_failure(exc))

    def lease_check(self, name: str) -> bool:
        """For the pipeline, before it stores a poll's results: the lease is still this daemon's, with time
        to spare. Answered without a round trip: no other daemon can take the feed before the expiry the
        database set, and this process knows a deadline no later than it (``lease_plan.lease_deadline``). A
        lease that could not be renewed (the database away) runs out here as it does there."""
        if name in self.lost or not self.connected:
            return False
        return still_held(self.deadlines.get(name), time.monotonic(), self.timing.store_margin)

    # stopping ----------------------------------------------------------------------------------------------

    async def stop(self, deadline: float) -> None:
        """Claim nothing more, let the polls in flight finish (up to ``deadline`` seconds), release the rest."""
        self.stopping.set()
        pending = [task for task in self.polling.values() if not task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=deadline)
            for task in late:
                task.cancel()
        with contextlib.suppress(SQLAlchemyError):
            self.leases.release_all()


async def _first(*waits: Awaitable[object]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
