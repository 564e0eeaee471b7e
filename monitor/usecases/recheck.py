"""Rechecks of the pages behind hits: when one is due, and whether a new fetch changed the page materially or
removed it. Pure functions of values and ``now``; fetching and storing the new version is the caller's.

A change is material when a sentence of some length was added or dropped: a changed date line, a counter or
a short advertisement slot does not count. A page is removed on 404 or 410, or when it now redirects to the
site's home page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

DEFAULT_SCHEDULE = (3600.0, 86400.0, 7 * 86400.0)
MIN_SENTENCE_WORDS = 6  # shorter lines (dates, bylines, "Advertisement") are not material
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_WORD = re.compile(r"[^\W_]+")
# Words of date and time lines ("Updated 12:04 on 30 November"), which change without the story changing.
DATE_WORDS = frozenset(
    [
        "updated",
        "update",
        "published",
        "posted",
        "modified",
        "last",
        "am",
        "pm",
        "gmt",
        "utc",
        "on",
        "at",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)


def next_recheck(first_fetched: datetime, done: int, schedule: Sequence[float]) -> datetime | None:
    """When the next recheck of a page first fetched at ``first_fetched`` is due, after ``done`` rechecks;
    None when the schedule is spent (or empty: rechecks are off)."""
    if done >= len(schedule):
        return None
    return first_fetched + timedelta(seconds=schedule[done])


def recheck_due(first_fetched: datetime, done: int, schedule: Sequence[float], now: datetime) -> bool:
    due = next_recheck(first_fetched, done, schedule)
    return due is not None and due <= now


@dataclass(frozen=True, slots=True)
class PageChange:
    kind: str  # unchanged, changed, removed
    added: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


def compare(
    old_text: str, status: int, final_url: str, new_text: str | None, *, asked_url: str
) -> PageChange:
    """What a new fetch of a page says about it, given the text of the last version."""
    if status in (404, 410) or _is_home_page(final_url, asked_url):
        return PageChange("removed")
    if new_text is None:
        return PageChange("unchanged")  # an error page or an unreadable body says nothing about the story
    old, new = _material_sentences(old_text), _material_sentences(new_text)
    old_keys, new_keys = set(old), set(new)
    added = tuple(sentence for key, sentence in new.items() if key not in old_keys)
    dropped = tuple(sentence for key, sentence in old.items() if key not in new_keys)
    return PageChange("changed", added, dropped) if added or dropped else PageChange("unchanged")


def _material_sentences(text: str) -> dict[str, str]:
    """Sentences long enough to matter, keyed by their lower-cased words less numbers and date words (so that
    an updated count, time or date line alone is not a change)."""
    sentences: dict[str, str] = {}
    for sentence in _SENTENCE_END.split(text):
        words = [w for w in _WORD.findall(sentence.casefold()) if not w.isdigit() and w not in DATE_WORDS]
        if len(words) < MIN_SENTENCE_WORDS:
            continue
        sentences.setdefault(" ".join(words), " ".join(sentence.split()))
    return sentences


def _is_home_page(final_url: str, asked_url: str) -> bool:
    final, asked = urlsplit(final_url), urlsplit(asked_url)
    moved = (final.netloc, final.path) != (asked.netloc, asked.path)
    return moved and final.path in ("", "/") and not final.query
