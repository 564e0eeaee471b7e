"""What each CLI command does, given a loaded config. Printing happens here; the work happens in the core."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor import output
from monitor.errors import MonitorError, StoreError
from monitor.redact import mask_known, mask_url, redact
from monitor.untrusted import printable

# Each command imports the parts it uses where it uses them: a command starts in the time its own
# imports take (the database layer alone is a quarter of a second), not the whole program's.
# tests/test_startup.py checks which packages each command loads.
if TYPE_CHECKING:
    from collections.abc import Mapping

    from monitor.config.compiled import Config
    from monitor.config.database import DatabaseSettings, StatusSettings
    from monitor.models import Hit, Page, PendingPage, Story
    from monitor.notify.deliver import SendReport
    from monitor.store import Store
    from monitor.store.archive import HitRecord

log = logging.getLogger("monitor")


def load(path: Path, log_level: str | None) -> Config:
    from monitor.config.compiled import load_config

    config = load_config(path)
    if not log_level:
        logging.getLogger().setLevel(config.settings.monitor.log_level.upper())
    return config


def load_database(path: Path, log_level: str | None) -> DatabaseSettings:
    """Only [monitor] database and log_level, for the commands that use nothing else of the config."""
    from monitor.config.database import read_database_settings

    settings = read_database_settings(path)
    if not log_level:
        logging.getLogger().setLevel(settings.log_level.upper())
    return settings


def open_database(database: str) -> Store:
    from monitor.store import Store

    return Store.open(database)


def now() -> datetime:
    return datetime.now(UTC)


def check(path: Path) -> int:
    from monitor.config.compiled import load_config

    config = load_config(path)
    settings = config.settings
    for warning in settings.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    notifiers = (
        ", ".join(n.name + (" (log only)" if n.logs_only else "") for n in settings.notifiers) or "none"
    )
    database = _check_database(settings.monitor.database)
    print(f"{path}: OK")
    pages = f", {len(settings.pages)} pages" if settings.pages else ""
    print(
        f"  {len(settings.feeds)} feeds{pages}, {len(settings.watchlists)} watchlists, notifiers: {notifiers}"
    )
    print(f"  database: {mask_url(settings.monitor.database)} ({database})")
    return 0


def _check_database(url: str) -> str:
    """Open the database the way every command will, without migrating it or creating it, and compare its schema
    with the migration files; StoreError (exit 3) names what is wrong. A SQLite file is opened with the standard
    library's sqlite3, so that checking a config does not load SQLAlchemy."""
    import sqlite3

    from monitor.store import schema

    path = schema.plain_sqlite_path(url)
    if path is None:
        return _check_database_by_url(url)
    problem = schema.folder_problem(path)
    if problem:
        raise StoreError(f"cannot open database {mask_url(url)}: {problem}")
    if not path.exists():
        return "not created yet; the first poll creates it"
    try:
        versions = schema.sqlite_versions(path)
    except (sqlite3.Error, OSError) as exc:
        reason = schema.describe_failure(exc)
        raise StoreError(redact(f"cannot open database {mask_url(url)}: {reason}", url)) from None
    return schema.schema_state(versions, schema.read_revisions())


def _check_database_by_url(url: str) -> str:
    """`check` for any database but a plain SQLite file: through SQLAlchemy, as the store opens it."""
    from monitor.store import Store, schema
    from monitor.store import engine as store_engine

    problem = store_engine.sqlite_folder_problem(url)
    if problem:
        raise StoreError(f"cannot open database {mask_url(url)}: {problem}")
    if store_engine.sqlite_missing(url):
        return "not created yet; the first poll creates it"
    store = Store.open(url, migrate=False)
    try:
        versions = store_engine.schema_versions(store.engine)
    finally:
        store.close()
    return schema.schema_state(versions, schema.read_revisions())


async def poll(config: Config, only: list[str], *, notify: bool) -> int:
    from monitor.poll import poll_summary
    from monitor.runtime import open_runtime, release_stale_claims

    jobs = config.jobs
    unknown = sorted(set(only) - {j.name for j in jobs})
    if unknown:
        valid = ", ".join(j.name for j in jobs)
        raise MonitorError(f"--feed {', '.join(unknown)}: no such feed in the config (feeds: {valid})")
    if only:
        jobs = [j for j in jobs if j.name in only]
    async with open_runtime(config) as runtime:
        for owner, count in release_stale_claims(runtime.outbox, now()).items():
            print(f"{count} alerts held by {owner}, which has stopped, will be sent now")
        results = await runtime.pipeline.poll_many(jobs, now())
        for result in results:
            print(printable(poll_summary(result)))
            for page_error in result.page_errors:
                print(f"  no full text: {printable(page_error)}")
        failed = sum(r.status == "error" for r in results)
        print(f"{len(results)} feeds polled, {failed} failed, {sum(r.hits for r in results)} hits")
        retried = await runtime.pipeline.retry_pages(now())
        if retried.fetched or retried.pending or retried.given_up:
            print(
                f"pages fetched again: {retried.fetched} with text ({retried.hits} hits), "
                f"{retried.pending} still failing, {len(retried.given_up)} given up"
            )
            for line in retried.given_up:
                print(f"  given up: {line}")
        if notify:
            reports = await runtime.deliverer.deliver_due(now(), flush=True)
            for report in reports:
                print(_report_line(report))
            for owner, (count, until) in runtime.outbox.held(now()).items():
                print(
                    f"{count} alerts are being sent by {owner} (claimed until "
                    f"{until.isoformat(timespec='seconds')}); left to it"
                )
    return 0


def _report_line(report: SendReport) -> str:
    state = "sent" if report.ok else f"FAILED ({report.error}); will retry"
    kind = "digest" if report.digest else "alert"
    return f"{kind} to {report.notifier}: {report.hits} hits {state}"


def hit_row(hit: Hit, record: HitRecord | None = None) -> dict[str, Any]:
    label = record.label if record else None
    return {
        "id": hit.id,
        "label": label.label if label else None,
        "note": label.note if label else None,
        "watchlist": hit.watchlist,
        "found_at": hit.found_at,
        "published": hit.published,
        "feed": hit.feed,
        "title": hit.title,
        "url": hit.url,
        "matched": list(hit.matched),
        "language": hit.language,
        "found_as": list(hit.found_as),
        "update": hit.on_update,
        "snippet": hit.snippets[0].text if hit.snippets else "",
        "snippets": [s.to_dict() for s in hit.snippets],
        "story": hit.story,
        "outlets": list(hit.outlets),
        "new_terms": list(hit.new_terms),
        "new_watchlist": hit.new_watchlist,
        "via": hit.via,
    }


def story_row(story: Story) -> dict[str, Any]:
    return {
        "id": story.id,
        "title": story.title,
        "first_seen": story.first_seen,
        "watchlists": list(story.watchlists),
        "articles": [
            {"url": a.url, "feed": a.feed, "title": a.title, "published": a.published} for a in story.articles
        ],
    }


def stories(database: str, watchlist: str | None, since: datetime | None, limit: int, fmt: str) -> int:
    """Stored stories, newest first: each once, with the outlets' copies under it."""
    store = open_database(database)
    try:
        found = store.stories(watchlist=watchlist, since=since, limit=limit)
    finally:
        store.close()
    if fmt == "json":
        print(output.json_lines([story_row(s) for s in found]))
        return 0
    if not found:
        print("no stories")
        return 0
    rows = [
        {
            "id": s.id,
            "first_seen": s.first_seen,
            "copies": len(s.articles),
            "outlets": list(dict.fromkeys(a.feed for a in s.articles)),
            "watchlists": list(s.watchlists),
            "title": s.title,
        }
        for s in found
    ]
    print(
        output.table(
            rows,
            ["id", "first_seen", "copies", "outlets", "watchlists", "title"],
            {"title": 60, "outlets": 40},
        )
    )
    return 0


def hits(
    database: str,
    watchlist: str | None,
    since: datetime | None,
    limit: int,
    fmt: str,
    query: str | None = None,
    label: str | None = None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> int:
    """Stored hits, newest first; with ``query``, only those whose article matches it (``aliases`` from the
    config: a query may name them)."""
    from monitor.store.review import HitFilter, Review

    store = open_database(database)
    try:
        wanted = HitFilter(watchlist=watchlist, label=label, since=since, limit=None if query else limit)
        records = Review(store).hits(wanted)
        if query:
            from monitor.match import matching

            fields = store.article_fields([record.hit.id for record in records])
            matched = matching(query, fields, aliases or {})
            records = [record for record in records if record.hit.id in matched][: limit or None]
        rows = [hit_row(record.hit, record) for record in records]
    finally:
        store.close()
    columns = ["found_at", "watchlist", "feed", "title", "matched", "url", "language"]
    if fmt == "json":
        text = output.json_lines(rows)
    elif fmt == "csv":
        text = output.csv_text(rows, [*columns, "published", "snippet", "id", "label", "note"])
    else:
        shown = ["id", *columns[:4], "label", *columns[4:]]
        text = output.table(rows, shown, {"title": 60, "url": 70, "matched": 30}) if rows else "no hits"
        if rows and rows[0]["snippets"]:
            text += "\n\n" + "\n".join(_explained(r) for r in rows)
    print(text)
    return 0


def _explained(row: dict[str, Any]) -> str:
    return mask_known(printable(_explanation(row)))


def _explanation(row: dict[str, Any]) -> str:
    from monitor.models import Snippet
    from monitor.notify.channels import snippet_runs

    lines = [
        f"[{row['watchlist']}] {row['title']}  <{row['url']}>",
        f"  matched: {', '.join(row['matched'])}",
    ]
    if row["found_as"]:
        lines.append(f"  found as: {'; '.join(row['found_as'])}")
    if row["update"]:
        lines.append("  found when the article was updated")
    for data in row["snippets"]:
        snippet = Snippet.from_dict(data)
        text = "".join(f"[{part}]" if marked else part for part, marked in snippet_runs(snippet))
        lines.append(f"  {snippet.field}: …{' '.join(text.split())}…")
    return "\n".join(lines)


def load_status(path: Path, log_level: str | None) -> StatusSettings:
    """What `status` reads of the config, without validating the rest of the file when that is plainly right;
    else from a whole load, which says what is wrong."""
    from monitor.config.database import DatabaseSettings, StatusSettings, read_status_settings

    settings = read_status_settings(path)
    if settings is None:
        config = load(path, log_level)
        monitor = config.settings.monitor
        database = DatabaseSettings(monitor.database, monitor.log_level)
        return StatusSettings(database, config.sources, monitor.silent_after, config.settings.fingerprint)
    if not log_level:
        logging.getLogger().setLevel(settings.database.log_level.upper())
    return settings


def status(settings: StatusSettings, fmt: str) -> int:
    from monitor.daemon_status import config_warnings, daemons_text
    from monitor.store import PageRetries
    from monitor.usecases.status import feed_rows

    store = open_database(settings.database.database)
    fingerprint = settings.fingerprint
    try:
        daemons = daemons_status(store, fingerprint, now())
        feeds = feed_rows(settings.sources, settings.silent_after, store, now())
        outbox = store.outbox
        counts = outbox.counts()
        dead = outbox.listing(status="dead", limit=20)
        pending_pages = [_pending_page_row(p) for p in PageRetries(store.engine).listing()]
        totals = store.counts()
    finally:
        store.close()
    deliveries = [{"notifier": n, "status": s, "count": c} for (n, s), c in sorted(counts.items())]
    running = [d for d in daemons if d["state"] == "running"]
    warnings = config_warnings(daemons, fingerprint)
    if fmt == "json":
        report = {
            "daemon": running[0] if running else (daemons[0] if daemons else {"state": "not running"}),
            "daemons": daemons,
            "warnings": warnings,
            "feeds": feeds,
            "deliveries": deliveries,
            "pending_pages": pending_pages,
        }
        print(output.json_lines([{**report, **totals}]))
        return 0
    print(daemons_text(daemons))
    for warning in warnings:
        print(f"warning: {warning}")
    print(f"{totals['articles']} articles, {totals['hits']} hits stored\n")
    columns = [
        "name",
        "last_status",
        "last_polled",
        "next_poll",
        "consecutive_failures",
        "entries_seen",
        "health",
        "last_new_entry",
        "fulltext_rate",
        "last_error",
    ]
    print(output.table(feeds, columns, {"last_error": 60}))
    moved = [f for f in feeds if f["moved_to"]]
    for feed in moved:
        print(f"  {feed['name']} moved permanently: {feed['url']} -> {feed['moved_to']}")
    print("\ndeliveries:")
    print(output.table(deliveries, ["notifier", "status", "count"]) if deliveries else "  none")
    for delivery in dead:
        print(
            printable(
                f"  dead: {delivery.notifier} hit {delivery.hit.id} {delivery.hit.title!r}: {delivery.last_error}"
            )
        )
    print("\npending page fetches:")
    columns = ["feed", "url", "failures", "next_attempt", "last_error"]
    print(output.table(pending_pages, columns, {"url": 60, "last_error": 40}) if pending_pages else "  none")
    return 0


def _pending_page_row(pending: PendingPage) -> dict[str, Any]:
    return {
        "feed": pending.feed,
        "url": pending.url,
        "failures": pending.failures,
        "crashes": pending.crashes,
        "first_failed": pending.first_failed,
        "next_attempt": pending.next_attempt,
        "last_error": pending.last_error,
    }


def daemons_status(store: Any, fingerprint: str, at: datetime) -> list[dict[str, Any]]:
    """Every daemon on the database with its state, feeds leased and config fingerprint."""
    from monitor.daemon_status import daemon_rows
    from monitor.store.daemons import Daemons

    leased: dict[str, int] = {}
    if store.engine.dialect.name == "postgresql":
        from monitor.store.leases import FeedLeases

        leases = FeedLeases(store.engine, "")
        leased, at = leases.held_counts(), leases.now()
    return daemon_rows(Daemons(store.engine).listing(), leased, fingerprint, at)


def deliveries(
    database: str, action: str, status_filter: str | None, notifier: str | None, limit: int, fmt: str
) -> int:
    store = open_database(database)
    try:
        outbox = store.outbox
        if action == "retry":
            count = outbox.retry(now(), notifier=notifier, statuses=("failed", "dead"))
            target = f" for {notifier}" if notifier else ""
            print(f"{count} failed or dead deliveries{target} queued to be sent at the next delivery run")
            return 0
        rows = [
            {
                "id": d.id,
                "notifier": d.notifier,
                "status": d.status,
                "attempts": d.attempts,
                "next_attempt": d.next_attempt if d.status in ("pending", "failed") else None,
                "watchlist": d.hit.watchlist,
                "title": d.hit.title,
                "last_error": d.last_error,
                "created": d.created_at,
            }
            for d in outbox.listing(status=status_filter, notifier=notifier, limit=limit)
        ]
    finally:
        store.close()
    if fmt == "json":
        print(output.json_lines(rows))
    else:
        columns = ["id", "notifier", "status", "attempts", "next_attempt", "watchlist", "title", "last_error"]
        print(output.table(rows, columns, {"title": 50, "last_error": 50}) if rows else "no deliveries")
    return 0


async def notify_test(config: Config, name: str | None) -> int:
    notifiers = config.settings.notifiers
    if name:
        notifiers = tuple(n for n in notifiers if n.name == name)
        if not notifiers:
            valid = ", ".join(n.name for n in config.settings.notifiers) or "none defined"
            raise MonitorError(f"no notifier named {name!r} (notifiers: {valid})")
    from monitor.notify import Message, log_message, send_message

    text = "This is a test message from monitor. If you can read it, alerts will reach you here."
    message = Message(title="monitor: test message", text=text, html=f"<p>{text}</p>")
    failed = 0
    for notifier in notifiers:
        if notifier.logs_only:
            log_message(log, notifier.name, message)
            print(f"{notifier.name}: written to the log")
            continue
        for result in await send_message(notifier.urls, message, timeout=config.settings.monitor.timeout):
            state = "ok" if result.ok else f"FAILED: {result.error}"
            print(f"{notifier.name}: {result.target}: {state}")
            failed += not result.ok
    return 1 if failed else 0


def match(config: Config, watchlist: str | None, query: str | None, source: str | Path) -> int:
    from monitor.match import compile_watchlists
    from monitor.match.language import detect_language
    from monitor.models import WatchlistSpec

    matcher = config.matcher
    if query:
        matcher = compile_watchlists([WatchlistSpec("query", query=query)], config.settings.resolved_aliases)
    fields = _article_fields(config, source)
    fields["language"] = detect_language(fields["title"], fields["body"]) or ""
    explanations = matcher.explain(fields)
    if watchlist:
        explanations = [e for e in explanations if e.name == watchlist]
        if not explanations:
            raise MonitorError(f"no watchlist named {watchlist!r} (watchlists: {', '.join(matcher.names)})")
    language = fields["language"] or "unknown"
    print(
        printable(
            f"article: {fields['title'] or '(no title)'} "
            f"({len(fields['body'])} characters of text, language {language})"
        )
    )
    for explanation in explanations:
        print(f"\n{explanation.name}: {'MATCH' if explanation.matched else 'no match'}")
        for line in explanation.lines:
            print(f"  {line}")
    return 0 if any(e.matched for e in explanations) else 1


def _article_fields(config: Config, source: str | Path) -> dict[str, str]:
    """Title and text of the article to try, got exactly as the pipeline gets them. Only a web page or an HTML
    file starts the event loop, the fetcher and the extractor; a text file or standard input loads none."""
    fields = {"title": "", "summary": "", "body": "", "url": "", "feed": ""}
    if source == "-":
        fields["body"] = sys.stdin.read()
        return fields
    url = source if isinstance(source, str) else source.resolve().as_uri()
    if isinstance(source, Path) and not _looks_like_html(source):
        fields["body"] = source.read_text(encoding="utf-8", errors="replace")
        return fields
    import asyncio

    page, error = asyncio.run(_fetch_page(config, url))
    if page is None:
        raise MonitorError(f"cannot get the article text: {error}")
    fields.update(title=page.title or "", body=page.text, url=url)
    return fields


async def _fetch_page(config: Config, url: str) -> tuple[Page | None, str | None]:
    from monitor.poll import fetch_page
    from monitor.runtime import new_fetcher
    from monitor.workers import WorkerPool

    settings = config.settings.monitor
    with WorkerPool(0) as inline:  # one page: no worker processes, and no database either
        async with new_fetcher(config.settings) as fetcher:
            return await fetch_page(
                fetcher,
                inline,
                url,
                max_size=settings.max_page_size,
                extract_timeout=settings.extract_timeout,
            )


def _looks_like_html(path: Path) -> bool:
    from monitor.extract import looks_like_html

    if path.suffix.lower() in (".html", ".htm", ".xhtml"):
        return True
    with path.open("rb") as handle:
        return looks_like_html(handle.read(2048))


def db_upgrade(config: Config) -> int:
    from monitor.runtime import open_store

    store = open_store(config.settings)  # opening migrates
    try:
        address = store.address
        applied = store.upgrade()
    finally:
        store.close()
    print(f"database {address} is at the newest schema" + (f" (applied {applied})" if applied else ""))
    return 0


def web(config: Config, listen: str | None) -> int:
    """Serve the web desk until stopped; the database is migrated first, as every command does."""
    from monitor.runtime import open_store
    from monitor.web.serve import resolve_listen, serve_forever

    where = resolve_listen(config, listen)
    open_store(config.settings).close()
    return serve_forever(config, where)
