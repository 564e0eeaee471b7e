"""Reading the desk's filter and form values: pure functions from the submitted strings to typed values, or a
FilterError saying which value is wrong and why (a 400 page). An empty value means "not given"."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.config.units import parse_duration
from monitor.match.language import known_languages
from monitor.store.archive import LABELS
from monitor.store.review import UNLABELLED, HitFilter

ALL = "all"
INBOX_LABELS = (UNLABELLED, *LABELS, ALL)
MAX_LIMIT = 500
INBOX_PAGE = 50  # hits on one inbox page: enough to triage, small enough to render fast
MAX_QUERY = 2000
MAX_NOTE = 2000
MAX_DAYS = 366


class FilterError(ValueError):
    """A filter or form value that cannot be used; the message is shown to the reader."""


@dataclass(frozen=True, slots=True)
class SearchForm:
    query: str
    since: datetime | None
    feed: str | None
    language: str | None
    limit: int


@dataclass(frozen=True, slots=True)
class BacktestForm:
    watchlist: str | None
    query: str | None
    since: datetime | None


def value(params: Mapping[str, str], key: str) -> str | None:
    """The stripped value of ``key``; None when missing or blank."""
    raw = params.get(key)
    if raw is None:
        return None
    text = raw.strip()
    return text or None


def choice(params: Mapping[str, str], key: str, allowed: Collection[str]) -> str | None:
    """A value that must be one of ``allowed``."""
    given = value(params, key)
    if given is not None and given not in allowed:
        shown = ", ".join(sorted(allowed)) or "none defined"
        raise FilterError(f"{key} {given!r} is not known (choose one of: {shown})")
    return given


def since(text: str | None, now: datetime) -> datetime | None:
    """``7d`` / ``6h`` back from ``now``, or an ISO date or date-time (UTC unless it says otherwise)."""
    if text is None:
        return None
    try:
        return now - timedelta(seconds=parse_duration(text))
    except (ValueError, OverflowError):
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FilterError(
            f"since {text!r}: use a duration such as 2d or 6h, or a date such as 2026-11-01"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def language(text: str | None) -> str | None:
    if text is None:
        return None
    code = text.lower()
    if code not in known_languages():
        raise FilterError(f"language {text!r}: use an ISO 639-1 code such as en, fr, tr")
    return code


def number(text: str | None, key: str, *, default: int, lowest: int, highest: int) -> int:
    if text is None:
        return default
    if not text.isdigit():
        raise FilterError(f"{key} {text!r}: expected a whole number from {lowest} to {highest}")
    count = int(text)
    if not lowest <= count <= highest:
        raise FilterError(f"{key} {text!r}: expected a whole number from {lowest} to {highest}")
    return count


def inbox_filter(
    params: Mapping[str, str], *, watchlists: Collection[str], feeds: Collection[str], now: datetime
) -> HitFilter:
    """The inbox's filters: watchlist, label (``new`` by default, ``all`` for any), feed, language, since."""
    label = choice(params, "label", INBOX_LABELS) or UNLABELLED
    return HitFilter(
        watchlist=choice(params, "watchlist", watchlists),
        label=None if label == ALL else label,
        feed=choice(params, "feed", feeds),
        language=language(value(params, "language")),
        since=since(value(params, "since"), now),
        limit=number(value(params, "limit"), "limit", default=INBOX_PAGE, lowest=1, highest=MAX_LIMIT),
    )


def query_text(params: Mapping[str, str], key: str = "q") -> str | None:
    text = value(params, key)
    if text is not None and len(text) > MAX_QUERY:
        raise FilterError(f"{key}: the query is longer than {MAX_QUERY} characters")
    return text


def search_form(params: Mapping[str, str], *, feeds: Collection[str], now: datetime) -> SearchForm | None:
    """The search form, or None when no query was given yet. ``since`` defaults to 30 days, as in the CLI."""
    query = query_text(params)
    if query is None:
        return None
    return SearchForm(
        query=query,
        since=since(value(params, "since") or "30d", now),
        feed=choice(params, "feed", feeds),
        language=language(value(params, "language")),
        limit=number(value(params, "limit"), "limit", default=50, lowest=1, highest=MAX_LIMIT),
    )


def backtest_form(
    params: Mapping[str, str], *, watchlists: Collection[str], now: datetime
) -> BacktestForm | None:
    """A watchlist or a query to backtest (not both), or None when neither was given yet; 90 days by default."""
    watchlist = choice(params, "watchlist", watchlists)
    query = query_text(params)
    if watchlist is None and query is None:
        return None
    if watchlist is not None and query is not None:
        raise FilterError("give a watchlist or a query, not both")
    return BacktestForm(watchlist, query, since(value(params, "since") or "90d", now))


def note_text(params: Mapping[str, str]) -> str:
    text = (params.get("note") or "").strip()
    if len(text) > MAX_NOTE:
        raise FilterError(f"note: longer than {MAX_NOTE} characters")
    return text


def label_value(params: Mapping[str, str]) -> str:
    label = value(params, "label")
    if label not in LABELS:
        raise FilterError(f"label {label!r}: use one of {', '.join(LABELS)}")
    return label


def days(params: Mapping[str, str]) -> int:
    return number(value(params, "days"), "days", default=30, lowest=1, highest=MAX_DAYS)
