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


def hits_per_day(times: Iterable[tuple[str, datetime]], days: int, now: datetime) -> Activity:
    """Hits found on each of the last ``days`` days up to today (UTC); older ones are left out."""
    today = now.astimezone(UTC).date()
    span = tuple(today - timedelta(days=back) for back in range(days - 1, -1, -1))
    slot = {day: index for index, day in enumerate(span)}
    counts: dict[str, list[int]] = {}
    for watchlist, found_at in times:
        index = slot.get(found_at.astimezone(UTC).date())
        if index is not None:
            counts.setdefault(watchlist, [0] * days)[index] += 1
    return Activity(span, {name: tuple(counts[name]) for name in sorted(counts)})


def since_for(days: int, now: datetime) -> datetime:
    """The start (UTC midnight) of the first of the last ``days`` days."""
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    return datetime(first.year, first.month, first.day, tzinfo=UTC)
