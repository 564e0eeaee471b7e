"""Hits per watchlist per day, for the desk's chart: counting is a pure function of the hit times and `now`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True, slots=True)
class Activity:
    """Counts for each of ``days`` (oldest first, UTC dates) and each watchlist, in name order."""

    days: tuple[date, ...]
    counts: dict[str, tuple[int, ...]]

    @property
    def peak(self) -> int:
        return max((max(row) for row in self.counts.values() if row), default=0)


def hits_per_day(counts: Iterable[tuple[str, date, int]], days: int, now: datetime) -> Activity:
    """The hits found on each of the last ``days`` days up to today (UTC), from (watchlist, day, count)
    rows; days outside that span are left out."""
    today = now.astimezone(UTC).date()
    span = tuple(today - timedelta(days=back) for back in range(days - 1, -1, -1))
    slot = {day: index for index, day in enumerate(span)}
    found: dict[str, list[int]] = {}
    for watchlist, day, count in counts:
        index = slot.get(day)
        if index is not None:
            found.setdefault(watchlist, [0] * days)[index] += count
    return Activity(span, {name: tuple(found[name]) for name in sorted(found)})


def since_for(days: int, now: datetime) -> datetime:
    """The start (UTC midnight) of the first of the last ``days`` days."""
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    return datetime(first.year, first.month, first.day, tzinfo=UTC)
