"""The API's query-string parameters read into values, with the desk's form readers (``monitor.web.forms``), so
a bad value gets the same reason from a page and from the API. Pure functions of the parameters, the config's
names and ``now``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.store.review import HitFilter
from monitor.web import forms
from monitor.web.forms import ALL, INBOX_LABELS, MAX_LIMIT, FilterError, choice, number, value

DEFAULT_LIMIT = 50
MAX_OFFSET = 1_000_000
SEARCH_SINCE = "30d"  # the period searched when none is given, as `monitor search` does


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def hit_filter(
    params: Mapping[str, str], *, watchlists: Collection[str], feeds: Collection[str], now: datetime
) -> HitFilter:
    """``watchlist``, ``label`` (a triage label, ``new`` for untriaged hits; all when absent or ``all``),
    ``feed``, ``language`` and ``since``, as the inbox reads them."""
    label = choice(params, "label", INBOX_LABELS)
    return HitFilter(
        watchlist=choice(params, "watchlist", watchlists),
        label=None if label in (None, ALL) else label,
        feed=choice(params, "feed", feeds),
        language=forms.language(value(params, "language")),
        since=forms.since(value(params, "since"), now),
        limit=None,
    )


def since(params: Mapping[str, str], now: datetime, default: str | None = None) -> datetime | None:
    return forms.since(value(params, "since") or default, now)


def language(params: Mapping[str, str]) -> str | None:
    return forms.language(value(params, "language"))


def page(params: Mapping[str, str]) -> Page:
    """``limit`` (1 to MAX_LIMIT, DEFAULT_LIMIT when absent) and ``offset`` (0 or more)."""
    return Page(
        limit=number(value(params, "limit"), "limit", default=DEFAULT_LIMIT, lowest=1, highest=MAX_LIMIT),
        offset=number(value(params, "offset"), "offset", default=0, lowest=0, highest=MAX_OFFSET),
    )


__all__ = ["FilterError", "Page", "choice", "hit_filter", "language", "page", "since"]
