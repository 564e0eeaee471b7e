"""Wiring: builds the real parts (store, fetcher, workers, pipeline, deliverer) from a compiled config. The CLI and
the daemon are the only callers."""

from __future__ import annotations

import random
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.claims import current_owner, owner_gone, process_start
from monitor.config import Settings
from monitor.config.compiled import Config, compile_matcher, load_config, policies

# The running parts are imported where they are built, so that commands which only read the config or the
# database (check, hits, status) never load the HTTP client, the workers, apprise or the extractor.
if TYPE_CHECKING:
    from monitor.fetch import Fetcher
    from monitor.health_watch import HealthWatch
    from monitor.notify.deliver import Deliverer
    from monitor.poll import Pipeline
    from monitor.store import Outbox, Store
    from monitor.workers import WorkerPool

__all__ = ["Config", "Runtime", "compile_matcher", "load_config", "open_runtime", "open_store", "policies"]

# Imported once by the worker processes' fork server, so the workers share these instead of each loading them:
# what reads feeds and tells languages always, the extractor only when some source wants pages' full text.
FEED_PRELOAD = ("feedparser", "monitor.feeds", "monitor.poll_read")
EXTRACT_PRELOAD = ("trafilatura", "monitor.extract")


def worker_preload(config: Config) -> tuple[str, ...]:
    """The modules the workers' fork server loads: a process that only reads feeds never imports trafilatura
    (pages fetched later, e.g. a recheck, load it in the worker that extracts them)."""
    fulltext = any(job.fulltext for job in config.jobs)
    return FEED_PRELOAD + (EXTRACT_PRELOAD if fulltext else ()) + ("monitor.worker_start",)


@dataclass(slots=True)
class Runtime:
    config: Config
    store: Store
    outbox: Outbox
    fetcher: Fetcher
    workers: WorkerPool
    pipeline: Pipeline
    deliverer: Deliverer

    def apply(self, config: Config) -> None:
        """Switch to a new valid config: later polls and sends use it; a poll in flight keeps its own."""
        self.store.sync_feeds(config.sources)
        pipeline = _pipeline(config, self.fetcher, self.workers, self.store)
        # what the feeds still configured were last read with: their next reads tell only what changed
        pipeline.told = {name: seen for name, seen in self.pipeline.told.items() if name in pipeline.jobs}
        deliverer = _deliverer(config, self.outbox)
        self.config, self.pipeline, self.deliverer = config, pipeline, deliverer


def release_stale_claims(outbox: Outbox, at: datetime) -> dict[str, int]:
    """Release the delivery claims (and notifiers held for a send) of senders that stopped (on this host) or
    whose claims expired."""

    def gone(owner: str) -> bool:
        return owner_gone(owner, socket.gethostname(), process_start)

    outbox.release_stale_sending(at, gone)
    return outbox.release_stale(at, gone)


def open_store(settings: Settings) -> Store:
    from monitor.store import Store

    return Store.open(settings.monitor.database)


@asynccontextmanager
async def open_runtime(config: Config, *, workers: WorkerPool | None = None) -> AsyncIterator[Runtime]:
    """The parts, built from the config and closed on exit; ``workers`` replaces the configured worker processes
    (``WorkerPool(0)`` runs parsing and extraction inline, for tests)."""
    from monitor import extract
    from monitor.workers import WorkerPool

    settings = config.settings.monitor
    store = open_store(config.settings)
    store.sync_feeds(config.sources)
    from monitor.store import Outbox

    outbox = Outbox(store.engine, owner=current_owner())
    preload = worker_preload(config)
    warm_up = extract.warm_up if "trafilatura" in preload else None
    pool = (
        workers if workers is not None else WorkerPool(settings.workers, initializer=warm_up, preload=preload)
    )
    fetcher = new_fetcher(config.settings)
    try:
        await pool.start()
        yield Runtime(
            config,
            store,
            outbox,
            fetcher,
            pool,
            _pipeline(config, fetcher, pool, store),
            _deliverer(config, outbox),
        )
    finally:
        await fetcher.aclose()
        pool.close()
        store.close()


def new_fetcher(settings: Settings) -> Fetcher:
    from monitor.fetch import Fetcher

    monitor = settings.monitor
    return Fetcher(
        timeout=monitor.timeout,
        user_agent=monitor.user_agent,
        max_connections=monitor.max_connections,
        max_per_host=monitor.max_per_host,
        allow_proxy=monitor.allow_proxy,
    )


def _pipeline(config: Config, fetcher: Fetcher, pool: WorkerPool, store: Store) -> Pipeline:
    from monitor.poll import Pipeline, PollLimits

    settings = config.settings.monitor
    limits = PollLimits(
        max_feed_size=settings.max_feed_size,
        max_page_size=settings.max_page_size,
        extract_timeout=settings.extract_timeout,
        notify_max_age=settings.notify_max_age,
        max_backoff=settings.max_backoff,
        pages_in_flight=settings.max_connections,
    )
    pipeline = Pipeline(fetcher, pool, store, config.matcher, config.routes, limits, random.Random())
    pipeline.health = health_watch(config)
    pipeline.jobs = {job.name: job for job in config.jobs}
    return pipeline


def health_watch(config: Config) -> HealthWatch:
    from monitor.health_watch import HealthNotifier, HealthWatch

    settings = config.settings
    notifiers = [settings.notifier(name) for name in settings.monitor.health_notify]
    return HealthWatch(
        settings.monitor.silent_after,
        [HealthNotifier(n.name, () if n.logs_only else n.urls) for n in notifiers],
        settings.monitor.timeout,
    )


def _deliverer(config: Config, outbox: Outbox) -> Deliverer:
    from monitor.notify.deliver import Deliverer

    settings = config.settings.monitor
    by_name, overrides = policies(config.settings)
    return Deliverer(
        outbox,
        by_name,
        overrides,
        retry_for=settings.retry_for,
        group_window=settings.group_window,
        timeout=settings.timeout,
    )
