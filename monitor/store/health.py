"""The samples source health is judged on, per feed: recent new-entry times, recent page results, and the
health state last told. The decisions are in ``monitor.health``; this only keeps bounded lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, select

from monitor.store.driver import DriverStatement, driver_statement
from monitor.store.findings import insert_ignore
from monitor.store.tables import feed_health


@dataclass(frozen=True, slots=True)
class HealthSamples:
    entry_times: tuple[datetime, ...] = ()
    pages: tuple[tuple[bool, bool], ...] = ()  # (fulltext, paywall_marker), oldest first
    told_state: str | None = None


class HealthRecords:
    """Reads and writes the feed_health table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def samples(self, feed: str) -> HealthSamples:
        with self.engine.begin() as conn:
            row = conn.execute(select(feed_health).where(feed_health.c.feed == feed)).one_or_none()
        return samples_of(row) if row is not None else HealthSamples()

    def all_samples(self) -> dict[str, HealthSamples]:
        with self.engine.begin() as conn:
            return {row.feed: samples_of(row) for row in conn.execute(select(feed_health))}

    def save(
        self,
        feed: str,
        entry_times: Sequence[datetime],
        pages: Sequence[tuple[bool, bool]],
        told_state: str | None,
    ) -> None:
        with self.engine.begin() as conn:
            write_health(conn, feed, entry_times, pages, told_state)

    def page_text(self, feed: str) -> str | None:
        """The text a [[page]] had at its last poll; None before the first."""
        with self.engine.begin() as conn:
            return conn.scalar(select(feed_health.c.page_text).where(feed_health.c.feed == feed))

    def save_page_text(self, feed: str, text: str) -> None:
        with self.engine.begin() as conn:
            write_page_text(conn, feed, text)


def samples_of(row: Row[Any]) -> HealthSamples:
    """A feed_health row's samples (its columns may come from an outer join: None reads as no samples)."""
    times = tuple(datetime.fromisoformat(t) for t in json.loads(row.entry_times or "[]"))
    pages = tuple((bool(p[0]), bool(p[1])) for p in json.loads(row.pages or "[]"))
    return HealthSamples(times, pages, row.told_state)


def write_health(
    conn: Connection,
    feed: str,
    entry_times: Sequence[datetime],
    pages: Sequence[tuple[bool, bool]],
    told_state: str | None,
) -> None:
    entry_times_json = json.dumps([t.isoformat() for t in entry_times])
    pages_json = json.dumps([list(p) for p in pages])
    _upsert(conn, ("entry_times", "pages", "told_state")).execute(
        conn, (feed, entry_times_json, pages_json, told_state, None)
    )


def write_page_text(conn: Connection, feed: str, text: str) -> None:
    _upsert(conn, ("page_text",)).execute(conn, (feed, "[]", "[]", None, text))


_NAMES = ("feed", "entry_times", "pages", "told_state", "page_text")  # the parameters, in this order


def _upsert(conn: Connection, columns: tuple[str, ...]) -> DriverStatement:
    """INSERT a feed_health row, or on its feed SET only ``columns``: built once per dialect and columns."""

    def build() -> tuple[Any, tuple[str, ...]]:
        dialect = conn.dialect.name
        base = insert_ignore(feed_health, dialect).values({name: bindparam(name) for name in _NAMES})
        statement = base.on_conflict_do_update(
            index_elements=["feed"], set_={name: base.excluded[name] for name in columns}
        )
        return statement, _NAMES

    return driver_statement(("feed_health upsert", columns), conn.dialect, build)
