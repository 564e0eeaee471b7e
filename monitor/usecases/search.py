"""Search the archive and backtest a watchlist over it: the index narrows, the compiled matcher decides, so
both give exactly the articles a live watchlist with the same words would have hit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from monitor.match import Matcher, compile_watchlists
from monitor.match.query import NO_ALIASES, Aliases
from monitor.models import Match, WatchlistSpec
from monitor.store.archive import Archive, StoredArticle

from .narrow import narrow_watchlist

SEARCH_NAME = "search"


@dataclass(frozen=True, slots=True)
class Found:
    article: StoredArticle
    match: Match


def search(
    archive: Archive,
    query: str,
    *,
    since: datetime | None = None,
    feed: str | None = None,
    language: str | None = None,
    limit: int | None = None,
    aliases: Aliases = NO_ALIASES,
) -> list[Found]:
    """The stored articles ``query`` matches, newest first; raises QueryError when it does not parse."""
    spec = WatchlistSpec(SEARCH_NAME, query=query)
    found: list[Found] = []
    for item in run_watchlist(archive, spec, since=since, feed=feed, language=language, aliases=aliases):
        found.append(item)
        if limit is not None and len(found) >= limit:
            break
    return found


def run_watchlist(
    archive: Archive,
    spec: WatchlistSpec,
    *,
    since: datetime | None = None,
    feed: str | None = None,
    language: str | None = None,
    aliases: Aliases = NO_ALIASES,
) -> Iterator[Found]:
    """Every stored article in the period ``spec`` matches, newest first, with why."""
    # First: a query that does not parse is an error before any reading.
    matcher = compile_watchlists([spec], aliases)
    narrowing = narrow_watchlist(spec, aliases)
    ids = archive.candidate_ids(narrowing, since=since, feed=feed, language=language)
    return _matching(archive, matcher, ids)


def _matching(archive: Archive, matcher: Matcher, ids: list[int]) -> Iterator[Found]:
    for article in archive.articles(ids):
        for match in matcher.match(article.fields()):
            # Built now: what is found is kept and shown, and an unbuilt Match would keep its article's scan.
            yield Found(article, match.built())


@dataclass(frozen=True, slots=True)
class BacktestItem:
    article: StoredArticle
    change: str  # kept (hit now and stored), gained (would hit, not stored), lost (stored, would not hit)
    label: str | None
    match: Match | None


@dataclass(frozen=True, slots=True)
class Backtest:
    watchlist: str
    scanned: int
    candidates: int
    would_hit: int
    gained: int
    lost: int
    precision: float | None  # of the would-hits that carry a relevant/irrelevant label
    recall: float | None  # of the hits labelled relevant
    items: tuple[BacktestItem, ...]


def backtest(
    archive: Archive, spec: WatchlistSpec, *, since: datetime | None = None, aliases: Aliases = NO_ALIASES
) -> Backtest:
    """Run ``spec`` over the archive and compare with the hits stored under its name. Stores nothing."""
    matcher = compile_watchlists([spec], aliases)
    ids = archive.candidate_ids(narrow_watchlist(spec, aliases), since=since)
    would = {found.article.id: found for found in _matching(archive, matcher, ids)}
    stored = archive.stored_hits(spec.name, since=since)
    labels = archive.labels(spec.name)
    lost_ids = [article_id for article_id in stored if article_id not in would]
    items = [
        BacktestItem(
            found.article, "kept" if article_id in stored else "gained", labels.get(article_id), found.match
        )
        for article_id, found in would.items()
    ]
    items += [
        BacktestItem(article, "lost", labels.get(article.id), None)
        for article in sorted(archive.articles(lost_ids), key=lambda a: a.published, reverse=True)
    ]
    precision, recall = precision_recall(set(would), labels)
    return Backtest(
        watchlist=spec.name,
        scanned=archive.count(since=since),
        candidates=len(ids),
        would_hit=len(would),
        gained=sum(item.change == "gained" for item in items),
        lost=len(lost_ids),
        precision=precision,
        recall=recall,
        items=tuple(items),
    )


def precision_recall(would_hit: set[int], labels: dict[int, str]) -> tuple[float | None, float | None]:
    """Against triage labels (unsure ones count for neither): precision over the labelled would-hits, recall
    over the articles labelled relevant; None where there is nothing to count."""
    relevant = {a for a, label in labels.items() if label == "relevant"}
    judged = {a for a, label in labels.items() if label in ("relevant", "irrelevant")}
    judged_hits = would_hit & judged
    precision = len(would_hit & relevant) / len(judged_hits) if judged_hits else None
    recall = len(would_hit & relevant) / len(relevant) if relevant else None
    return precision, recall
