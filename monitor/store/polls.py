"""A poll's reads and its one write: the feed's state and health samples read together (for one feed, or for
a whole cycle in one query), and the statements every poll runs built once, so that SQLAlchemy does not build
them again for each poll."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Row, Update, bindparam, select, update

from monitor.models import FeedState, FeedUpdate, Finding
from monitor.store.driver import driver_statement
from monitor.store.engine import read_only
from monitor.store.health import HealthSamples, samples_of
from monitor.store.tables import feed_health, feeds

BATCH = 500  # names in one IN (...) list; a cycle of more feeds reads the whole table once


@dataclass(frozen=True, slots=True)
class PollStart:
    """What a poll reads before it fetches: the feed's state and its health samples."""

    state: FeedState
    health: HealthSamples = field(default_factory=HealthSamples)


@dataclass(frozen=True, slots=True)
class PollWrite:
    """Everything one poll stores, in one transaction: the feed's new state, its new articles (with their
    hits and deliveries), the stored articles that changed, and its health samples and page text."""

    change: FeedUpdate
    findings: Sequence[Finding] = ()
    updates: Sequence[Finding] = ()
    health: HealthSamples | None = None  # the samples to keep; None: unchanged
    page_text: str | None = None  # a [[page]] in text mode: its text now


@dataclass(frozen=True, slots=True)
class PollSaved:
    hits: dict[
        str, list[int]
    ]  # new hit ids by the key of each new article stored (another poll's are left out)
    update_hits: list[list[int]]  # new hit ids of each changed article, in the order given


_STARTS = select(feeds, feed_health.c.entry_times, feed_health.c.pages, feed_health.c.told_state).select_from(
    feeds.outerjoin(feed_health, feed_health.c.feed == feeds.c.name)
)
_STARTS_OF = _STARTS.where(feeds.c.name.in_(bindparam("names", expanding=True)))
_STARTS_ONE = _STARTS.where(feeds.c.name == bindparam("name"))


def poll_starts(engine: Engine, names: Iterable[str]) -> dict[str, PollStart]:
    """The state and health samples of the named feeds that are stored, read without taking the write lock."""
    wanted = set(names)
    with read_only(engine).connect() as conn:
        if len(wanted) > BATCH:
            rows: Iterable[Row[Any]] = conn.execute(_STARTS)
        else:
            rows = conn.execute(_STARTS_OF, {"names": sorted(wanted)}) if wanted else ()
        return {row.name: _start(row) for row in rows if row.name in wanted}


def poll_start(engine: Engine, name: str) -> PollStart | None:
    with read_only(engine).connect() as conn:
        row = conn.execute(_STARTS_ONE, {"name": name}).one_or_none()
    return _start(row) if row is not None else None


def write_feed_update(conn: Connection, change: FeedUpdate) -> None:
    """Apply what a poll decided (``poll_plan.plan``) to the feed's row."""
    names = list(_FEED_COLUMNS)
    values: list[Any] = [
        change.polled_at,
        change.status,
        change.error,
        change.consecutive_failures,
        change.next_poll,
        change.gone,
        change.failed_digest,
    ]
    if change.entries_seen is not None:
        names.append("entries_seen")
        values.append(change.entries_seen)
    if change.validators is not None:
        names += ("etag", "last_modified")
        values += change.validators
    if change.moved_to is not None:
        names.append("current_url")
        values.append(change.moved_to)
    columns = tuple(names)
    statement = driver_statement(("feed update", columns), conn.dialect, lambda: _feed_update(columns))
    statement.execute(conn, (*values, change.feed))


_FEED_COLUMNS = (
    "last_polled_at",
    "last_status",
    "last_error",
    "consecutive_failures",
    "next_poll_at",
    "gone",
    "failed_digest",
)


def _feed_update(columns: tuple[str, ...]) -> tuple[Update, tuple[str, ...]]:
    """UPDATE of the feed's row that sets ``columns``; its parameters are their values, then the feed's name."""
    statement = update(feeds).where(feeds.c.name == bindparam("b_name"))
    return statement.values({name: bindparam(name) for name in columns}), (*columns, "b_name")


def _start(row: Row[Any]) -> PollStart:
    return PollStart(feed_state(row), samples_of(row))


def feed_state(row: Row[Any]) -> FeedState:
    return FeedState(
        name=row.name,
        url=row.url,
        current_url=row.current_url,
        etag=row.etag,
        last_modified=row.last_modified,
        last_polled=row.last_polled_at,
        last_status=row.last_status,
        last_error=row.last_error,
        consecutive_failures=row.consecutive_failures,
        entries_seen=row.entries_seen,
        next_poll=row.next_poll_at,
        gone=row.gone,
        failed_digest=row.failed_digest,
    )
