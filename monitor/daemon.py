"""`monitor run`: the scheduler shell around the pipeline.

On SQLite, one APScheduler job per feed at its own interval and one daemon per database (``monitor.lock``). On
PostgreSQL, several daemons share the database: a lease loop (``monitor.lease_loop``) claims due feeds from the
database instead of per-feed timers. Either way a delivery job every second and upkeep jobs; the config file is
watched and re-applied without a restart; SIGTERM/SIGINT stop gracefully, a second signal stops at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from watchfiles import Change, awatch

from monitor import memory, telemetry
from monitor.claims import current_owner
from monitor.config.compiled import Config, load_config
from monitor.errors import ConfigError
from monitor.lease_loop import LeaseLoop
from monitor.lease_plan import LeaseTiming
from monitor.lock import DaemonLock
from monitor.logs import setup_logging
from monitor.models import FeedJob, PollResult
from monitor.poll import poll_summary
from monitor.poll_plan import first_poll
from monitor.runtime import Runtime, open_runtime, release_stale_claims
from monitor.store.archive import Archive
from monitor.store.daemons import DaemonRow, Daemons
from monitor.store.leases import FeedLeases
from monitor.usecases.recheck import page_fetcher, run_rechecks, send_alerts
from monitor.usecases.retention import prune_due

if TYPE_CHECKING:
    from monitor.web.serve import RunningDesk

log = logging.getLogger("monitor.daemon")

DELIVERY_EVERY = 1.0
GIVE_BACK_EVERY = 10.0
HEARTBEAT_EVERY = 10.0
HOUSEKEEPING_EVERY = 6 * 3600.0
PAGE_RETRIES_EVERY = 60.0
PRUNE_EVERY = 86400.0
RECHECK_EVERY = 300.0


def now() -> datetime:
    return datetime.now(UTC)


def run_daemon(path: Path, *, log_level: str | None = None, log_format: str = "text") -> int:
    config = load_config(path)
    setup_logging(log_level or config.settings.monitor.log_level, log_format)
    for warning in config.settings.warnings:
        log.warning("%s", warning)
    lock = DaemonLock(config.settings.monitor.database)
    lock.acquire()
    try:
        asyncio.run(Daemon(path, config).run())
    finally:
        lock.release()
    return 0


def config_change_filter(path: Path) -> Callable[[Change | None, str], bool]:
    """The filter of the config's folder's changes that keeps those of the config file itself."""
    target = path.resolve()

    def is_config(_change: Change | None, changed: str) -> bool:
        return Path(changed).resolve() == target

    return is_config


class Daemon:
    def __init__(self, path: Path, config: Config, *, clock: Callable[[], datetime] = now) -> None:
        self.path = path
        self.config = config
        self.clock = clock  # where every time the daemon decides with comes from
        self.stopping = asyncio.Event()
        self.inflight: set[asyncio.Task[object]] = set()  # polls and sends a graceful stop waits for
        self.runtime: Runtime | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.desk: RunningDesk | None = None
        self.registry: Daemons | None = None
        self._jobs = {job.name: job for job in config.jobs}  # the feeds by name, for the lease loop
        self.leases: LeaseLoop | None = None  # PostgreSQL: feeds are claimed from the database
        self.owner = current_owner()
        # The feeds polled at once (SQLite; the lease loop bounds its own): enough to keep every connection
        # busy, as in ``poll_many``. Without a bound, every due feed's poll starts at once when the daemon
        # falls behind (a busy machine, many feeds at a short interval), and a poll that found new entries
        # queues for its pages behind every other feed's request, again at each step.
        self._poll_slots = asyncio.Semaphore(_poll_bound(config))

    async def run(self) -> None:
        async with open_runtime(self.config) as runtime:
            scheduler = self.start(runtime)
            # Before the desk: a stop asked for as soon as it listens is a graceful stop, not a kill.
            self._install_signals()
            self.desk = await self._start_desk()
            watcher = asyncio.create_task(self._watch_config())
            leasing = asyncio.create_task(self.leases.run()) if self.leases else None
            log.info(
                "daemon started pid=%d feeds=%d watchlists=%d config=%s%s",
                os.getpid(),
                len(self.config.jobs),
                len(self.config.settings.watchlists),
                self.path,
                f" leases={self.config.settings.monitor.lease:g}s (several daemons may share this database)"
                if self.leases
                else "",
            )
            await self.stopping.wait()
            watcher.cancel()
            await self._shutdown(scheduler)
            if leasing:
                await leasing
            if self.desk is not None:
                await self.desk.stop()
            self._unregister()
        log.info("daemon stopped")

    def start(self, runtime: Runtime, *, paused: bool = False) -> AsyncIOScheduler:
        """Claim the database, free claims a crashed run left, and schedule every job. Call inside the running
        loop, as AsyncIOScheduler requires; ``paused`` schedules without running anything (for tests that drive
        the jobs by hand on their own clock)."""
        self.runtime = runtime
        self._register(runtime)
        for owner, count in release_stale_claims(runtime.outbox, self.clock()).items():
            log.warning("%d alerts held by %s, which has stopped, are sent again", count, owner)
        scheduler = self.scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.start(paused=paused)
        if runtime.store.engine.dialect.name == "postgresql":
            self.leases = self._lease_loop(runtime)
        else:
            for index, job in enumerate(self.config.jobs):
                self._schedule_feed(job, self._first_poll(job, index, len(self.config.jobs)))
        # Upkeep jobs are never skipped for running late: APScheduler's default grace (1 s) would drop every
        # run while the event loop is busy for more than a second at each tick (a loaded machine, many feeds),
        # and hold the alerts (or the heartbeat, the page retries) for as long as it stays busy.
        upkeep: list[tuple[str, Callable[[], object], float]] = [
            ("deliver", self._deliver, DELIVERY_EVERY),
            ("heartbeat", self._heartbeat, HEARTBEAT_EVERY),
            ("give-back", memory.give_back, GIVE_BACK_EVERY),
            ("page-retries", self._retry_pages, PAGE_RETRIES_EVERY),
            ("housekeeping", self._housekeeping, HOUSEKEEPING_EVERY),
            ("prune", self._prune, PRUNE_EVERY),
            ("recheck", self._recheck, RECHECK_EVERY),
        ]
        for name, run, every in upkeep:
            scheduler.add_job(run, IntervalTrigger(seconds=every), id=name, **_LATE_RUNS_STILL_RUN)
        return scheduler

    async def _start_desk(self) -> RunningDesk | None:
        """The web desk in this loop, when ``[web] listen`` is set (it opens its own database connections)."""
        listen = self.config.settings.web.listen
        if listen is None:
            return None
        from monitor.web.serve import start_in_loop

        return await start_in_loop(self.config, listen)

    # the daemons sharing the database ---------------------------------------------------------------------

    def _register(self, runtime: Runtime) -> None:
        self.registry = Daemons(runtime.store.engine)
        started = self.clock()
        self.registry.register(
            DaemonRow(
                self.owner,
                socket.gethostname(),
                os.getpid(),
                started,
                started,
                self.config.settings.fingerprint,
                str(self.path.resolve()),
            )
        )

    def _heartbeat(self) -> None:
        if self.registry is None or self.runtime is None:
            return
        try:
            fingerprint = self.config.settings.fingerprint
            if not self.registry.heartbeat(self.owner, self.clock(), fingerprint):
                self._register(self.runtime)  # the row went (a database restored, a status cleanup)
            # Another daemon on this database may have died holding alerts: they go out now, not at expiry.
            for owner, count in release_stale_claims(self.runtime.outbox, self.clock()).items():
                log.warning("%d alerts held by %s, which has stopped, are sent again", count, owner)
        except Exception as exc:
            log.warning("heartbeat not written (%s: %s); trying again", type(exc).__name__, exc)

    def _unregister(self) -> None:
        if self.registry is None or self.runtime is None:
            return
        try:
            self.registry.remove(self.owner)
        except Exception as exc:
            log.warning(
                "daemon record not removed (%s: %s); `monitor status` shows it stale", type(exc).__name__, exc
            )

    def _lease_loop(self, runtime: Runtime) -> LeaseLoop:
        settings = self.config.settings.monitor
        timing = LeaseTiming(
            lease=settings.lease,
            capacity=settings.max_connections * 2,
            batch=max(settings.max_connections, 10),
        )
        loop = LeaseLoop(
            FeedLeases(runtime.store.engine, self.owner),
            timing,
            lambda: self._jobs,
            self._poll_leased,
            self.clock,
            lambda: {state.name: state.next_poll for state in runtime.store.feed_states()},
        )
        runtime.pipeline.lease_check = loop.lease_check
        return loop

    async def _poll_leased(self, job: FeedJob) -> PollResult:
        assert self.runtime
        pipeline = self.runtime.pipeline  # a poll finishes with the config it started with
        with self._tracked():
            result = await pipeline.poll_safely(job, self.clock())
        (log.warning if result.status in ("error", "lease-lost") else log.info)("%s", poll_summary(result))
        return result

    # scheduling --------------------------------------------------------------------------------------------

    def _first_poll(self, job: FeedJob, index: int, count: int) -> datetime:
        """Spread the first polls over the first interval, unless the database says a feed is due sooner or,
        after a failure, later (its backoff survives a restart)."""
        assert self.runtime
        state = self.runtime.store.feed_state(job.name)
        start = self.clock()
        return first_poll(state, start + timedelta(seconds=job.interval * index / max(count, 1)), start)

    def _schedule_feed(self, job: FeedJob, first: datetime) -> None:
        assert self.scheduler
        self.scheduler.add_job(
            self._poll,
            IntervalTrigger(seconds=job.interval, jitter=min(job.interval * 0.1, 60.0)),
            id=_job_id(job.name),
            args=[job.name],
            next_run_time=first,
            replace_existing=True,
            misfire_grace_time=max(int(job.interval), 1),
            **_ONE_AT_A_TIME,
        )

    async def _poll(self, name: str) -> None:
        runtime = self.runtime
        jobs = {job.name: job for job in self.config.jobs}
        if runtime is None or name not in jobs or self.stopping.is_set():
            return
        async with self._poll_slots:
            if self.stopping.is_set():
                return
            pipeline = runtime.pipeline  # a poll finishes with the config it started with
            with self._tracked():
                result = await pipeline.poll_safely(jobs[name], self.clock())
        telemetry.observe_poll(result)
        (log.warning if result.status == "error" else log.info)("%s", poll_summary(result))
        if result.status == "error":
            self._follow_backoff(result)

    def _follow_backoff(self, result: PollResult) -> None:
        """A failing feed's next poll is the backed-off time the poll decided, not the next interval."""
        assert self.scheduler
        job = self.scheduler.get_job(_job_id(result.feed))
        if job and result.next_poll:
            job.modify(next_run_time=result.next_poll)
            log.info(
                "feed=%s backing off after %d failures; next poll %s",
                result.feed,
                result.consecutive_failures,
                result.next_poll.isoformat(timespec="seconds"),
            )

    async def _deliver(self) -> None:
        if self.runtime is None or (self.leases and not self.leases.connected):
            return  # the database is away: the lease loop says when it is back
        deliverer = self.runtime.deliverer
        started = time.perf_counter()
        with self._tracked():
            try:
                await deliverer.deliver_due(self.clock())
            except Exception:
                log.exception("delivery run failed; pending alerts stay queued for the next run")
        telemetry.observe_delivery_run(time.perf_counter() - started)

    async def _retry_pages(self) -> None:
        """Fetch again the article pages whose earlier fetch failed for a passing reason."""
        if self.runtime is None or self.stopping.is_set():
            return
        pipeline = self.runtime.pipeline
        with self._tracked():
            try:
                await pipeline.retry_pages(self.clock())
            except Exception:
                log.exception("page retry run failed; the pending pages stay queued for the next run")

    def _housekeeping(self) -> None:
        if self.runtime:
            self.runtime.store.housekeeping()

    async def _recheck(self) -> None:
        """Fetch the pages behind hits whose recheck is due; alert the changed and removed ones."""
        runtime = self.runtime
        if not runtime:
            return
        settings = self.config.settings
        if not settings.monitor.recheck:
            return
        with self._tracked():
            try:
                fetch = page_fetcher(
                    runtime.fetcher,
                    runtime.workers,
                    max_size=settings.monitor.max_page_size,
                    extract_timeout=settings.monitor.extract_timeout,
                )
                alerts = await run_rechecks(
                    Archive(runtime.store), fetch, settings.monitor.recheck, self.clock()
                )
                notifiers = {n.name: n for n in settings.notifiers}
                await send_alerts(alerts, notifiers, self.config.routes, timeout=settings.monitor.timeout)
            except Exception:
                log.exception("rechecking pages behind hits failed; they are tried again at the next run")

    def _prune(self) -> None:
        """Daily retention: drop the text and raw bodies of old articles without hits."""
        if self.runtime:
            try:
                pruned = prune_due(
                    Archive(self.runtime.store), self.config.settings.monitor.retention, self.clock()
                )
            except Exception:
                log.exception("pruning old articles failed; it is tried again tomorrow")
                return
            log.info("retention: pruned the text of %d old articles without hits", pruned)

    @contextmanager
    def _tracked(self) -> Iterator[None]:
        """Count the current task as in-flight work that a graceful stop waits for."""
        task = asyncio.current_task()
        if task:
            self.inflight.add(task)
        try:
            yield
        finally:
            if task:
                self.inflight.discard(task)

    # config reload -----------------------------------------------------------------------------------------

    async def _watch_config(self) -> None:
        """Re-read the config whenever it is saved. The folder is watched, not the file, because editors
        save by replacing the file; the filter keeps the database beside it (written all the time) out."""
        async for _ in awatch(
            self.path.resolve().parent,
            watch_filter=config_change_filter(self.path),
            debounce=300,
            step=100,
            stop_event=self.stopping,
        ):
            self.reload()

    def reload(self) -> None:
        """Apply the config file as it is now. Whatever goes wrong is logged and the daemon keeps running on
        the last good config (and keeps watching for the next edit)."""
        try:
            self._reload()
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("config not applied, still running on the last good one: %s", problem)
        except Exception as exc:
            log.exception(
                "config %s not applied (%s: %s); still running on the last good one",
                self.path,
                type(exc).__name__,
                exc,
            )

    def _reload(self) -> None:
        config = load_config(self.path)
        assert self.runtime and self.scheduler
        old = {job.name: job for job in self.config.jobs}
        new = {job.name: job for job in config.jobs}
        self.runtime.apply(config)  # first: when it fails, nothing has changed
        if _poll_bound(config) != _poll_bound(self.config):  # polls holding the old slots finish under them
            self._poll_slots = asyncio.Semaphore(_poll_bound(config))
        self.config = config
        if self.desk is not None:
            self.desk.apply(config)
        self._jobs = new
        if self.leases:
            self.runtime.pipeline.lease_check = self.leases.lease_check
            self.leases.needs_sync = True  # new feeds get their lease rows; the loop reads the feeds anew
            self._log_reload(old, new, [n for n in new.keys() & old.keys() if new[n] != old[n]])
            return
        for name in old.keys() - new.keys():
            self.scheduler.remove_job(_job_id(name))
        for index, name in enumerate(sorted(new.keys() - old.keys())):
            self._schedule_feed(new[name], self.clock() + timedelta(seconds=min(index, new[name].interval)))
        changed = [n for n in new.keys() & old.keys() if new[n] != old[n]]
        for name in changed:
            self._schedule_feed(new[name], self.clock() + timedelta(seconds=new[name].interval))
        self._log_reload(old, new, changed)

    def _log_reload(self, old: Mapping[str, FeedJob], new: Mapping[str, FeedJob], changed: list[str]) -> None:
        settings = self.config.settings
        for warning in settings.warnings:
            log.warning("%s", warning)
        log.info(
            "config reloaded: feeds added=%s removed=%s changed=%s; %d watchlists, %d notifiers",
            sorted(new.keys() - old.keys()) or "-",
            sorted(old.keys() - new.keys()) or "-",
            sorted(changed) or "-",
            len(settings.watchlists),
            len(settings.notifiers),
        )

    # life cycle --------------------------------------------------------------------------------------------

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_stop_signal, sig)
        loop.add_signal_handler(signal.SIGHUP, self._on_hup)

    def _on_stop_signal(self, sig: signal.Signals) -> None:
        if self.stopping.is_set():
            log.warning("second %s: exiting now", sig.name)
            os._exit(1)
        log.info("%s: finishing in-flight work (up to %gs), then stopping", sig.name, self._deadline)
        self.stopping.set()

    def _on_hup(self) -> None:
        log.info("SIGHUP: reloading %s", self.path)
        self.reload()

    @property
    def _deadline(self) -> float:
        return self.config.settings.monitor.shutdown_timeout

    async def _shutdown(self, scheduler: AsyncIOScheduler) -> None:
        scheduler.pause()
        if self.leases:
            self.leases.stopping.set()  # claim nothing more
        pending = {t for t in self.inflight if not t.done()}
        if pending:
            _, late = await asyncio.wait(pending, timeout=self._deadline)
            for task in late:
                log.warning("stopping work that outlived the %gs shutdown deadline", self._deadline)
                task.cancel()
        if self.leases:
            await self.leases.stop(0.0)  # what is still held goes back at once, schedules kept
        scheduler.shutdown(wait=False)


_ONE_AT_A_TIME = {"coalesce": True, "max_instances": 1}
_LATE_RUNS_STILL_RUN = {**_ONE_AT_A_TIME, "misfire_grace_time": None}


def _poll_bound(config: Config) -> int:
    """How many feeds a daemon on SQLite polls at once: twice its connections, as ``poll_many`` does."""
    return max(config.settings.monitor.max_connections * 2, 1)


def _job_id(feed: str) -> str:
    return f"feed:{feed}"
