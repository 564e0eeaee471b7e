"""Query-string filters read into values: each bad value is a ``BadFilter`` naming the parameter, what was
given and what is accepted. Pure functions of the parameters, the config's names and ``now``."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.config.units import parse_duration
from monitor.store.archive import LABELS
from monitor.store.listing import UNLABELLED, HitFilter

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
LANGUAGE = re.compile(r"[a-z]{2,3}")
SHOWN_NAMES = 20  # names listed in an error about an unknown one


class BadFilter(ValueError):
    """A query-string parameter that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def hit_filter(
    params: Mapping[str, str], *, watchlists: Collection[str], feeds: Collection[str], now: datetime
) -> HitFilter:
    """The hit filter the parameters ask for: ``watchlist``, ``label``, ``feed``, ``language``, ``since``."""
    label = params.get("label") or None
    if label is not None and label not in (*LABELS, UNLABELLED):
        raise BadFilter(f"label {label!r}: use one of {', '.join((*LABELS, UNLABELLED))}")
    return HitFilter(
        watchlist=known_name(params, "watchlist", watchlists),
        label=label,
        feed=known_name(params, "feed", feeds),
        language=language(params),
        since=since(params, now),
    )


def known_name(params: Mapping[str, str], key: str, names: Collection[str]) -> str | None:
    value = params.get(key) or None
    if value is not None and value not in names:
        shown = sorted(names)[:SHOWN_NAMES]
        more = ", ..." if len(names) > SHOWN_NAMES else ""
        listed = ", ".join(shown) + more if shown else "none configured"
        raise BadFilter(f"{key} {value!r} is not in the config ({key}s: {listed})")
    return value


def language(params: Mapping[str, str]) -> str | None:
    value = params.get("language") or None
    if value is not None and not LANGUAGE.fullmatch(value):
        raise BadFilter(f"language {value!r}: use a two- or three-letter ISO 639 code such as en or fr")
    return value


def since(params: Mapping[str, str], now: datetime) -> datetime | None:
    """``since``: a duration back from ``now`` (2d, 6h) or an ISO date or date-time, read as UTC."""
    text = params.get("since") or None
    if text is None:
        return None
    try:
        return now - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadFilter(
            f"since {text!r}: use a duration such as 2d or 6h, or a date such as 2026-11-01"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def page(params: Mapping[str, str]) -> Page:
    """``limit`` (1 to MAX_LIMIT, DEFAULT_LIMIT when absent) and ``offset`` (0 or more)."""
    return Page(
        limit=_number(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_number(params, "offset", 0, 0, None),
    )


def _number(params: Mapping[str, str], key: str, default: int, low: int, high: int | None) -> int:
    text = params.get(key)
    if text is None or text == "":
        return default
    value = int(text) if text.isascii() and text.isdigit() else -1
    if value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise BadFilter(f"{key} {text!r}: give a whole number {bounds}")
    return value
