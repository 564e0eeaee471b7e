"""Builds the real parts from validated settings. The CLI and the daemon are the only callers."""

from __future__ import annotations

import dataclasses
import random
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor import extract
from monitor.claims import current_owner, owner_gone, process_start
from monitor.config import NotifierSettings, Settings, WatchlistSettings, load_settings
from monitor.delivery import Deliverer, Policy
from monitor.errors import ConfigError, QueryError
from monitor.fetch import Fetcher
from monitor.match import Matcher, compile_watchlists
from monitor.models import WatchlistSpec
from monitor.pipeline import FeedJob, Pipeline, PollLimits
from monitor.store import Outbox, Store
from monitor.workers import WorkerPool

# Imported once by the worker processes' fork server, so the workers share these instead of each loading them.
WORKER_PRELOAD = ("trafilatura", "feedparser", "monitor.extract", "monitor.feeds")


@dataclass(frozen=True, slots=True)
class Config:
    """Settings plus the watchlists compiled from them: everything a valid config file yields."""

    settings: Settings
    matcher: Matcher

    @property
    def jobs(self) -> list[FeedJob]:
        return [FeedJob(f.name, f.url, f.interval, f.fulltext) for f in self.settings.feeds]

    @property
    def routes(self) -> dict[str, tuple[str, ...]]:
        return {w.name: w.notify for w in self.settings.watchlists}


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, validate and compile the config file; every mistake comes back as a ConfigError with file:line."""
    check = _compile_one
    settings = (
        load_settings(path, check_query=check) if env is None else load_settings(path, env, check_query=check)
    )
    return Config(settings, compile_matcher(settings))


def _compile_one(spec: WatchlistSpec) -> Matcher:
    return compile_watchlists([spec])


def compile_matcher(settings: Settings) -> Matcher:
    try:
        return compile_watchlists(settings.watchlist_specs())
    except QueryError as exc:
        index = next((i for i, w in enumerate(settings.watchlists) if w.name == exc.watchlist), None)
        key = "query"
        if index is not None and not _in_query(settings.watchlists[index], exc.query):
            key = "terms"
        where = settings.where("watchlist", index, key) if index is not None else str(settings.path)
        raise ConfigError(
            [f"{where}: [[watchlist]] {exc}\n    {exc.query}\n    {' ' * exc.position}^"]
        ) from exc


def _in_query(watchlist: WatchlistSettings, text: str) -> bool:
    return watchlist.query is not None and text == watchlist.query


def policies(settings: Settings) -> tuple[dict[str, Policy], dict[tuple[str, str], Policy]]:
    """Each notifier's sending policy, and the policies of watchlists that override a notifier's mode."""
    by_name = {n.name: _policy(n) for n in settings.notifiers}
    overrides: dict[tuple[str, str], Policy] = {}
    for watchlist in settings.watchlists:
        if watchlist.mode is None:
            continue
        for name in watchlist.notify:
            base = by_name[name]
            overrides[(name, watchlist.name)] = dataclasses.replace(
                base, mode=watchlist.mode, schedule=watchlist.schedule or base.schedule
            )
    return by_name, overrides


def _policy(notifier: NotifierSettings) -> Policy:
    quiet = notifier.quiet_hours
    return Policy(
        notifier=notifier.name,
        urls=notifier.urls,
        mode=notifier.mode,
        schedule=notifier.schedule,
        timezone=notifier.timezone,
        max_per_hour=notifier.max_per_hour,
        quiet_hours=(quiet.start, quiet.end) if quiet else None,
        send_empty=notifier.send_empty,
        template=str(notifier.template) if notifier.template else None,
    )


def release_stale_claims(outbox: Outbox, at: datetime) -> dict[str, int]:
    """Release the delivery claims of senders that stopped (on this host) or whose claims expired."""
    return outbox.release_stale(at, lambda owner: owner_gone(owner, socket.gethostname(), process_start))


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
        self.store.sync_feeds({f.name: f.url for f in config.settings.feeds})
        pipeline = _pipeline(config, self.fetcher, self.workers, self.store)
        deliverer = _deliverer(config, self.outbox)
        self.config, self.pipeline, self.deliverer = config, pipeline, deliverer


def open_store(settings: Settings) -> Store:
    return Store.open(settings.monitor.database)


@asynccontextmanager
async def open_runtime(config: Config) -> AsyncIterator[Runtime]:
    settings = config.settings.monitor
    store = open_store(config.settings)
    store.sync_feeds({f.name: f.url for f in config.settings.feeds})
    outbox = Outbox(store.engine, owner=current_owner())
    pool = WorkerPool(
        settings.workers,
        initializer=extract.warm_up,
        preload=WORKER_PRELOAD,
    )
    fetcher = new_fetcher(config.settings)
    try:
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
    monitor = settings.monitor
    return Fetcher(
        timeout=monitor.timeout,
        user_agent=monitor.user_agent,
        max_connections=monitor.max_connections,
        max_per_host=monitor.max_per_host,
    )


def _pipeline(config: Config, fetcher: Fetcher, pool: WorkerPool, store: Store) -> Pipeline:
    settings = config.settings.monitor
    limits = PollLimits(
        max_feed_size=settings.max_feed_size,
        max_page_size=settings.max_page_size,
        extract_timeout=settings.extract_timeout,
        notify_max_age=settings.notify_max_age,
        max_backoff=settings.max_backoff,
        pages_in_flight=settings.max_connections,
    )
    return Pipeline(fetcher, pool, store, config.matcher, config.routes, limits, random.Random())


def _deliverer(config: Config, outbox: Outbox) -> Deliverer:
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
