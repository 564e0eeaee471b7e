"""The samples source health is judged on, per feed: recent new-entry times, recent page results, and the
health state last told. The decisions are in ``monitor.health``; this only keeps bounded lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, select

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
        return _samples(row) if row is not None else HealthSamples()

    def all_samples(self) -> dict[str, HealthSamples]:
        with self.engine.begin() as conn:
            return {row.feed: _samples(row) for row in conn.execute(select(feed_health))}

    def save(
        self,
        feed: str,
        entry_times: Sequence[datetime],
        pages: Sequence[tuple[bool, bool]],
        told_state: str | None,
    ) -> None:
        values = {
            "entry_times": json.dumps([t.isoformat() for t in entry_times]),
            "pages": json.dumps([list(p) for p in pages]),
            "told_state": told_state,
        }
        with self.engine.begin() as conn:
            changed = conn.execute(feed_health.update().where(feed_health.c.feed == feed).values(**values))
            if changed.rowcount == 0:
                conn.execute(feed_health.insert().values(feed=feed, **values))

    def page_text(self, feed: str) -> str | None:
        """The text a [[page]] had at its last poll; None before the first."""
        with self.engine.begin() as conn:
            return conn.scalar(select(feed_health.c.page_text).where(feed_health.c.feed == feed))

    def save_page_text(self, feed: str, text: str) -> None:
        with self.engine.begin() as conn:
            changed = conn.execute(
                feed_health.update().where(feed_health.c.feed == feed).values(page_text=text)
            )
            if changed.rowcount == 0:
                conn.execute(
                    feed_health.insert().values(feed=feed, entry_times="[]", pages="[]", page_text=text)
                )


def _samples(row: Row[Any]) -> HealthSamples:
    times = tuple(datetime.fromisoformat(t) for t in json.loads(row.entry_times or "[]"))
    pages = tuple((bool(p[0]), bool(p[1])) for p in json.loads(row.pages or "[]"))
    return HealthSamples(times, pages, row.told_state)
