"""Source health, decided from values and ``now``: when a feed last brought something new and how often it
usually does (``silent``), how many of its recent pages gave full text (``paywalled``), and whether the feed's
health changed since it was last told (a message once per change, not per poll). Imports only ``models``-like
plain values; the store keeps the samples and applies the decisions."""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

RECENT_ENTRY_TIMES = 20  # new-entry times kept per feed
RECENT_PAGES = 20  # page samples kept per feed
MIN_PAGES = 5  # fewer pages than this never make a feed look paywalled
FULLTEXT_CHARS = 500  # a page whose extracted text is shorter is a teaser, not the full text
PAYWALLED_BELOW = 0.2  # full-text rate under which a feed looks paywalled
FAILING_AFTER = 3  # consecutive failed polls that make a feed "failing"
SILENT_FACTOR = 4  # silent after this many usual gaps without anything new

_PAYWALL_MARKERS = re.compile(
    r"subscribe (now )?to (continue|read)|to continue reading|already a subscriber|subscribers? only|"
    r"for subscribers|sign in to (read|continue)|log in to (read|continue)|this (article|story) is "
    r"(reserved|available|exclusive) (for|to) (subscribers|members)|paywall|become a (member|subscriber)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class PageSample:
    """What one fetched article page gave: its full text, or a teaser (short, or behind a paywall notice)."""

    fulltext: bool
    paywall_marker: bool


def page_sample(text: str) -> PageSample:
    """Judge one extracted page text."""
    marker = _PAYWALL_MARKERS.search(text) is not None
    return PageSample(fulltext=len(text.strip()) >= FULLTEXT_CHARS and not marker, paywall_marker=marker)


def fulltext_rate(samples: Sequence[PageSample]) -> float | None:
    """The share of recent pages that gave full text; None before any page was fetched."""
    return sum(s.fulltext for s in samples) / len(samples) if samples else None


def looks_paywalled(samples: Sequence[PageSample]) -> bool:
    """At least ``MIN_PAGES`` recent pages, and under ``PAYWALLED_BELOW`` of them gave full text."""
    rate = fulltext_rate(samples)
    return len(samples) >= MIN_PAGES and rate is not None and rate < PAYWALLED_BELOW


def keep_recent(
    old: Sequence[datetime], new: Sequence[datetime], limit: int = RECENT_ENTRY_TIMES
) -> tuple[datetime, ...]:
    """The newest ``limit`` of the times, oldest first."""
    return tuple(sorted([*old, *new])[-limit:])


def usual_gap(times: Sequence[datetime]) -> float | None:
    """The median gap in seconds between consecutive new-entry times; None with fewer than two."""
    ordered = sorted(times)
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(ordered)]
    return statistics.median(gaps) if gaps else None


def silent_limit(gap: float | None, silent_after: float) -> float:
    """How long without anything new makes a feed silent: max(4 x its usual gap, ``silent_after``)."""
    return max(SILENT_FACTOR * gap, silent_after) if gap is not None else silent_after


def is_silent(last_new_entry: datetime | None, gap: float | None, silent_after: float, now: datetime) -> bool:
    """No new entry for ``silent_limit`` or longer. A feed that never brought anything is not judged yet."""
    if last_new_entry is None:
        return False
    return now - last_new_entry >= timedelta(seconds=silent_limit(gap, silent_after))


@dataclass(frozen=True, slots=True)
class Health:
    """A feed's health at one moment."""

    last_new_entry: datetime | None
    usual_gap_s: float | None
    silent: bool
    fulltext_rate: float | None
    paywalled: bool
    failing: bool

    @property
    def problems(self) -> tuple[str, ...]:
        """``failing``, ``silent``, ``paywalled`` as they apply, in that order; () when healthy."""
        flags = (("failing", self.failing), ("silent", self.silent), ("paywalled", self.paywalled))
        return tuple(name for name, on in flags if on)

    @property
    def state(self) -> str:
        """``ok`` or the problems joined by commas: what is remembered to notice a change."""
        return ",".join(self.problems) or "ok"


def assess(
    times: Sequence[datetime],
    samples: Sequence[PageSample],
    consecutive_failures: int,
    silent_after: float,
    now: datetime,
) -> Health:
    """A feed's health from its recent new-entry times, page samples and failed polls in a row."""
    last = max(times) if times else None
    gap = usual_gap(times)
    return Health(
        last_new_entry=last,
        usual_gap_s=gap,
        silent=is_silent(last, gap, silent_after, now),
        fulltext_rate=fulltext_rate(samples),
        paywalled=looks_paywalled(samples),
        failing=consecutive_failures >= FAILING_AFTER,
    )


@dataclass(frozen=True, slots=True)
class HealthChange:
    """A change worth one message: the feed's problems now, and the ones it no longer has."""

    feed: str
    state: str
    started: tuple[str, ...]
    recovered: tuple[str, ...]

    @property
    def message(self) -> str:
        parts = []
        if self.started:
            parts.append(f"is now {' and '.join(self.started)}")
        if self.recovered:
            parts.append(f"is no longer {' or '.join(self.recovered)}")
        also = self.state not in ("ok", ",".join(self.started))
        return f"feed {self.feed} {'; '.join(parts)}" + (f" (now: {self.state})" if also else "")


def health_change(feed: str, told: str | None, now_state: str) -> HealthChange | None:
    """What to tell when a feed's state moved from ``told`` (the last state told, None: never) to
    ``now_state``; None when nothing changed, or when a feed first seen is healthy."""
    before = _problems(told or "ok")
    after = _problems(now_state)
    if before == after:
        return None
    started = tuple(p for p in after if p not in before)
    recovered = tuple(p for p in before if p not in after)
    return HealthChange(feed, now_state, started, recovered)


def _problems(state: str) -> tuple[str, ...]:
    return tuple(p for p in state.split(",") if p and p != "ok")
