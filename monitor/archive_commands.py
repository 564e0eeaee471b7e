"""The archive's CLI commands (search, backtest, hits mark, evidence, db prune): call the use cases, print."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor import output
from monitor.config.compiled import Config
from monitor.config.units import format_duration
from monitor.errors import MonitorError, QueryError
from monitor.models import WatchlistSpec
from monitor.runtime import open_store
from monitor.store.archive import LABELS, Archive
from monitor.untrusted import printable
from monitor.usecases import triage
from monitor.usecases.evidence import export_evidence
from monitor.usecases.retention import prune_due
from monitor.usecases.search import Backtest, BacktestItem, Found, backtest, search

SEARCH_COLUMNS = ["url", "title", "feed", "published", "language", "story", "matched", "snippet"]


class QueryInputError(MonitorError):
    """A query given on the command line does not parse: ``query:col: message``."""

    exit_code = 2


def query_error(error: QueryError) -> QueryInputError:
    return QueryInputError(f"query:{error.position + 1}: expected {error.expected}")


def search_command(
    config: Config,
    query: str,
    since: datetime | None,
    feed: str | None,
    language: str | None,
    limit: int,
    fmt: str,
) -> int:
    store = open_store(config.settings)
    try:
        found = search(
            Archive(store),
            query,
            since=since,
            feed=feed,
            language=language,
            limit=limit or None,
            aliases=config.settings.resolved_aliases,
        )
    except QueryError as exc:
        raise query_error(exc) from exc
    finally:
        store.close()
    rows = [found_row(item) for item in found]
    if fmt == "json":
        print(output.json_lines(rows))
    elif fmt == "csv":
        print(output.csv_text(rows, SEARCH_COLUMNS))
    else:
        columns = ["published", "feed", "title", "matched", "url"]
        print(output.table(rows, columns, {"title": 60, "url": 70, "matched": 30}) if rows else "no articles")
    return 0


def found_row(item: Found) -> dict[str, Any]:
    article = item.article
    snippets = item.match.snippets
    return {
        "url": article.url,
        "title": article.title,
        "feed": article.feed,
        "published": article.published,
        "language": article.language,
        "story": article.story,
        "matched": list(item.match.matched),
        "snippet": snippets[0].text if snippets else "",
    }


def backtest_command(
    config: Config, watchlist: str | None, query: str | None, since: datetime | None, fmt: str
) -> int:
    spec = _spec(config, watchlist, query)
    store = open_store(config.settings)
    try:
        result = backtest(Archive(store), spec, since=since, aliases=config.settings.resolved_aliases)
    except QueryError as exc:
        raise query_error(exc) from exc
    finally:
        store.close()
    if fmt == "json":
        print(output.json_lines([backtest_row(result)]))
        return 0
    print(
        f"{result.watchlist}: {result.scanned} articles scanned ({result.candidates} read), "
        f"{result.would_hit} would hit, {result.gained} gained, {result.lost} lost; "
        f"precision {_ratio(result.precision)}, recall {_ratio(result.recall)}"
    )
    for change in ("gained", "lost"):
        titles = [item for item in result.items if item.change == change]
        for item in titles:
            print(printable(f"  {change}: {item.article.title}  <{item.article.url}>"))
    return 0


def _spec(config: Config, watchlist: str | None, query: str | None) -> WatchlistSpec:
    if query is not None:
        return WatchlistSpec("query", query=query)
    specs = {spec.name: spec for spec in config.settings.watchlist_specs()}
    if watchlist not in specs:
        valid = ", ".join(specs) or "none defined"
        raise MonitorError(f"no watchlist named {watchlist!r} in the config (watchlists: {valid})")
    return specs[watchlist]


def backtest_row(result: Backtest) -> dict[str, Any]:
    return {
        "watchlist": result.watchlist,
        "scanned": result.scanned,
        "candidates": result.candidates,
        "would_hit": result.would_hit,
        "gained": result.gained,
        "lost": result.lost,
        "precision": result.precision,
        "recall": result.recall,
        "items": [_item_row(item) for item in result.items],
    }


def _item_row(item: BacktestItem) -> dict[str, Any]:
    return {
        "change": item.change,
        "url": item.article.url,
        "title": item.article.title,
        "feed": item.article.feed,
        "published": item.article.published,
        "label": item.label,
        "matched": list(item.match.matched) if item.match else [],
    }


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def mark_command(config: Config, words: list[str], note: str | None) -> int:
    if len(words) != 3 or words[0] != "mark":
        raise MonitorError("usage: monitor hits mark HIT_ID relevant|irrelevant|unsure [--note TEXT]")
    _, hit_text, label = words
    if not hit_text.isdigit():
        raise MonitorError(f"hit id {hit_text!r}: give the number shown in the ID column of `monitor hits`")
    if label not in LABELS:
        raise MonitorError(f"label {label!r}: use one of {', '.join(LABELS)}")
    store = open_store(config.settings)
    try:
        record = triage.mark(Archive(store), int(hit_text), label, datetime.now(UTC), note=note)
    finally:
        store.close()
    if record is None:
        raise MonitorError(f"no hit with id {hit_text} (see `monitor hits` for the ids)")
    print(printable(f"hit {hit_text} ({record.hit.watchlist}: {record.hit.title}) marked {label}"))
    return 0


def evidence_command(config: Config, hit_id: int, out: Path, force: bool) -> int:
    store = open_store(config.settings)
    try:
        report = export_evidence(Archive(store), hit_id, out, force=force)
    finally:
        store.close()
    print(f"evidence of hit {hit_id} written to {report.out}: {', '.join(report.files)}")
    for what in report.missing:
        print(printable(f"  missing: {what}"))
    return 0


def prune_command(config: Config, dry_run: bool) -> int:
    retention = config.settings.monitor.retention
    store = open_store(config.settings)
    try:
        count = prune_due(Archive(store), retention, datetime.now(UTC), dry_run=dry_run)
    finally:
        store.close()
    verb = "would be pruned" if dry_run else "pruned"
    print(f"{count} articles without hits older than {format_duration(retention)} {verb}")
    return 0
