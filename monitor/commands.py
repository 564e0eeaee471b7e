"""What each CLI command does, given a loaded config. Printing happens here; the work happens in the core."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor import output
from monitor.config.compiled import Config, load_config
from monitor.errors import MonitorError
from monitor.extract import looks_like_html
from monitor.health_watch import health_columns
from monitor.lock import process_alive
from monitor.match import compile_watchlists, matching
from monitor.models import Hit, Snippet, WatchlistSpec
from monitor.notify import Message, log_message, send_message
from monitor.notify.deliver import SendReport
from monitor.notify.render import snippet_parts
from monitor.pipeline import fetch_page, poll_summary
from monitor.runtime import new_fetcher, open_runtime, open_store
from monitor.secrets import mask_url
from monitor.store import DaemonRecord
from monitor.workers import WorkerPool

log = logging.getLogger("monitor")


def load(path: Path, log_level: str | None) -> Config:
    config = load_config(path)
    if not log_level:
        logging.getLogger().setLevel(config.settings.monitor.log_level.upper())
    return config


def now() -> datetime:
    return datetime.now(UTC)


def check(path: Path) -> int:
    config = load_config(path)
    settings = config.settings
    for warning in settings.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    notifiers = (
        ", ".join(n.name + (" (log only)" if n.logs_only else "") for n in settings.notifiers) or "none"
    )
    print(f"{path}: OK")
    pages = f", {len(settings.pages)} pages" if settings.pages else ""
    print(
        f"  {len(settings.feeds)} feeds{pages}, {len(settings.watchlists)} watchlists, notifiers: {notifiers}"
    )
    print(f"  database: {mask_url(settings.monitor.database)}")
    return 0


async def poll(config: Config, only: list[str], *, notify: bool) -> int:
    jobs = config.jobs
    unknown = sorted(set(only) - {j.name for j in jobs})
    if unknown:
        valid = ", ".join(j.name for j in jobs)
        raise MonitorError(f"--feed {', '.join(unknown)}: no such feed in the config (feeds: {valid})")
    if only:
        jobs = [j for j in jobs if j.name in only]
    async with open_runtime(config) as runtime:
        results = await runtime.pipeline.poll_many(jobs, now())
        for result in results:
            print(poll_summary(result))
            for page_error in result.page_errors:
                print(f"  no full text: {page_error}")
        failed = sum(r.status == "error" for r in results)
        print(f"{len(results)} feeds polled, {failed} failed, {sum(r.hits for r in results)} hits")
        if notify:
            reports = await runtime.deliverer.deliver_due(now(), flush=True)
            for report in reports:
                print(_report_line(report))
    return 0


def _report_line(report: SendReport) -> str:
    state = "sent" if report.ok else f"FAILED ({report.error}); will retry"
    kind = "digest" if report.digest else "alert"
    return f"{kind} to {report.notifier}: {report.hits} hits {state}"


def hit_row(hit: Hit) -> dict[str, Any]:
    return {
        "watchlist": hit.watchlist,
        "found_at": hit.found_at,
        "published": hit.published,
        "feed": hit.feed,
        "title": hit.title,
        "url": hit.url,
        "matched": list(hit.matched),
        "snippet": hit.snippets[0].text if hit.snippets else "",
        "snippets": [s.to_dict() for s in hit.snippets],
    }


def hits(
    config: Config,
    watchlist: str | None,
    since: datetime | None,
    limit: int,
    fmt: str,
    query: str | None = None,
) -> int:
    store = open_store(config.settings)
    try:
        found = store.hits(watchlist=watchlist, since=since, limit=None if query else limit)
        if query:
            wanted = matching(query, store.article_fields([hit.id for hit in found]))
            found = [hit for hit in found if hit.id in wanted][:limit]
        rows = [hit_row(h) for h in found]
    finally:
        store.close()
    columns = ["found_at", "watchlist", "feed", "title", "matched", "url"]
    if fmt == "json":
        text = output.json_lines(rows)
    elif fmt == "csv":
        text = output.csv_text(rows, [*columns, "published", "snippet"])
    else:
        text = output.table(rows, columns, {"title": 60, "url": 70, "matched": 30}) if rows else "no hits"
        if rows and rows[0]["snippets"]:
            text += "\n\n" + "\n".join(_explained(r) for r in rows)
    print(text)
    return 0


def _explained(row: dict[str, Any]) -> str:
    lines = [
        f"[{row['watchlist']}] {row['title']}  <{row['url']}>",
        f"  matched: {', '.join(row['matched'])}",
    ]
    for data in row["snippets"]:
        snippet = Snippet.from_dict(data)
        text = "".join(f"[{part}]" if marked else part for part, marked in snippet_parts(snippet))
        lines.append(f"  {snippet.field}: …{' '.join(text.split())}…")
    return "\n".join(lines)


def status(config: Config, fmt: str) -> int:
    store = open_store(config.settings)
    try:
        store.sync_feeds({job.name: job.url for job in config.jobs})
        daemon = daemon_status(store.daemon)
        configured = {job.name for job in config.jobs}
        samples = store.health.all_samples()
        silent_after, at = config.settings.monitor.silent_after, now()
        feeds = [
            {**_feed_row(s), **health_columns(samples.get(s.name), s.consecutive_failures, silent_after, at)}
            for s in store.feed_states()
            if s.name in configured
        ]
        outbox = store.outbox
        counts = outbox.counts()
        dead = outbox.listing(status="dead", limit=20)
        totals = store.counts()
    finally:
        store.close()
    deliveries = [{"notifier": n, "status": s, "count": c} for (n, s), c in sorted(counts.items())]
    if fmt == "json":
        print(output.json_lines([{"daemon": daemon, "feeds": feeds, "deliveries": deliveries, **totals}]))
        return 0
    print(
        f"daemon: {daemon['state']}"
        + (f" (pid {daemon['pid']} on {daemon['hostname']})" if daemon["pid"] else "")
    )
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
            f"  dead: {delivery.notifier} hit {delivery.hit.id} {delivery.hit.title!r}: {delivery.last_error}"
        )
    return 0


def _feed_row(state: Any) -> dict[str, Any]:
    return {
        "name": state.name,
        "url": mask_url(state.url),
        "moved_to": state.current_url,
        "last_polled": state.last_polled,
        "last_status": state.last_status or "never",
        "last_error": state.last_error,
        "consecutive_failures": state.consecutive_failures,
        "entries_seen": state.entries_seen,
        "next_poll": state.next_poll,
        "backoff": state.consecutive_failures > 0,
        "gone": state.gone,
    }


def daemon_status(record: DaemonRecord) -> dict[str, Any]:
    row = record.read()
    if row is None:
        return {"state": "not running", "pid": None, "hostname": None, "heartbeat": None}
    alive = process_alive(row.pid, row.hostname)
    return {
        "state": "running" if alive else "not running (stale record)",
        "pid": row.pid,
        "hostname": row.hostname,
        "started": row.started_at,
        "heartbeat": row.heartbeat_at,
    }


def deliveries(
    config: Config, action: str, status_filter: str | None, notifier: str | None, limit: int, fmt: str
) -> int:
    store = open_store(config.settings)
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
    text = "This is a test message from monitor. If you can read it, alerts will reach you here."
    message = Message(title="monitor: test message", text=text, html=f"<p>{text}</p>", markdown=text)
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


async def match(config: Config, watchlist: str | None, query: str | None, source: str | Path) -> int:
    matcher = config.matcher
    if query:
        matcher = compile_watchlists([WatchlistSpec("query", query=query)])
    fields = await _article_fields(config, source)
    explanations = matcher.explain(fields)
    if watchlist:
        explanations = [e for e in explanations if e.name == watchlist]
        if not explanations:
            raise MonitorError(f"no watchlist named {watchlist!r} (watchlists: {', '.join(matcher.names)})")
    print(f"article: {fields['title'] or '(no title)'} ({len(fields['body'])} characters of text)")
    for explanation in explanations:
        print(f"\n{explanation.name}: {'MATCH' if explanation.matched else 'no match'}")
        for line in explanation.lines:
            print(f"  {line}")
    return 0 if any(e.matched for e in explanations) else 1


async def _article_fields(config: Config, source: str | Path) -> dict[str, str]:
    """Title and text of the article to try, got exactly as the pipeline gets them."""
    fields = {"title": "", "summary": "", "body": "", "url": "", "feed": ""}
    if source == "-":
        fields["body"] = sys.stdin.read()
        return fields
    url = source if isinstance(source, str) else source.resolve().as_uri()
    if isinstance(source, Path) and not _looks_like_html(source):
        fields["body"] = source.read_text(encoding="utf-8", errors="replace")
        return fields
    settings = config.settings.monitor
    with WorkerPool(0) as inline:  # one page: no worker processes, and no database either
        async with new_fetcher(config.settings) as fetcher:
            page, error = await fetch_page(
                fetcher,
                inline,
                url,
                max_size=settings.max_page_size,
                extract_timeout=settings.extract_timeout,
            )
    if page is None:
        raise MonitorError(f"cannot get the article text: {error}")
    fields.update(title=page.title or "", body=page.text, url=url)
    return fields


def _looks_like_html(path: Path) -> bool:
    if path.suffix.lower() in (".html", ".htm", ".xhtml"):
        return True
    with path.open("rb") as handle:
        return looks_like_html(handle.read(2048))


def db_upgrade(config: Config) -> int:
    store = open_store(config.settings)  # opening migrates
    try:
        address = store.address
        applied = store.upgrade()
    finally:
        store.close()
    print(f"database {address} is at the newest schema" + (f" (applied {applied})" if applied else ""))
    return 0
