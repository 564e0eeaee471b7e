"""Rechecks end to end: a real poll stores a hit and its page; later fetches of that page (a real local server,
the real fetcher and extractor) store new versions and alert the watchlist's notifier of changes and removals."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from monitor.fetch import Fetcher
from monitor.runtime import load_config
from monitor.store import Store
from monitor.store.archive import Archive
from monitor.usecases.evidence import export_evidence
from monitor.usecases.recheck import RecheckAlert, page_fetcher, run_rechecks, send_alerts
from monitor.workers import WorkerPool
from tests.factory import article_page, run_cli, story_paragraphs, write_config
from tests.httpserver import LocalServer, http_server
from tests.test_poll_e2e import serve_news
from tests.webhook import WebhookServer, webhook_server

__all__ = ["http_server", "webhook_server"]

HTML = {"Content-Type": "text/html; charset=utf-8"}
SCHEDULE = (3600.0, 86400.0, 7 * 86400.0)
NEW_SENTENCE = (
    "Global Affairs Canada confirmed on Friday that every permit for the sensors had been cancelled."
)


def recheck(store: Store, now_offset: timedelta) -> list[RecheckAlert]:
    archive = Archive(store)
    (target,) = [
        t
        for t in archive.recheck_targets(store_first(store) - timedelta(days=1))
        if t.title.startswith("Ottawa")
    ]

    async def run() -> list[RecheckAlert]:
        with WorkerPool(0) as inline:
            async with Fetcher(timeout=5, user_agent="test") as fetcher:
                fetch = page_fetcher(fetcher, inline, max_size=5_000_000, extract_timeout=20)
                return await run_rechecks(archive, fetch, SCHEDULE, target.first_fetched + now_offset)

    return asyncio.run(run())


def store_first(store: Store) -> object:
    return min(h.found_at for h in store.hits(limit=None))


def test_rechecks_store_versions_and_alert_changes_and_removals(
    tmp_path: Path, http_server: LocalServer, webhook_server: WebhookServer
) -> None:
    serve_news(http_server)
    config_path = write_config(
        tmp_path,
        feeds=[{"name": "gazette", "url": http_server.url("/feed.xml")}],
        watchlists=[{"name": "arms", "terms": ["Wescam", "export permit*"], "notify": ["chat"]}],
        notifiers=[{"name": "chat", "urls": [webhook_server.apprise_url()]}],
    )
    assert run_cli(config_path, "poll", "--no-notify").returncode == 0
    store = Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        assert recheck(store, timedelta(minutes=59)) == []  # not due yet: nothing fetched
        requests = len(http_server.requests)
        assert recheck(store, timedelta(hours=1)) == []  # due, fetched, the same text
        assert len(http_server.requests) == requests + 1
        assert recheck(store, timedelta(hours=2)) == []  # the next recheck is at 24 h

        paragraphs = story_paragraphs()
        http_server.route(
            "/story", body=article_page("Ottawa silent", [*paragraphs, NEW_SENTENCE]), headers=HTML
        )
        (changed,) = recheck(store, timedelta(hours=24))
        assert changed.change.kind == "changed" and changed.change.added == (NEW_SENTENCE,)
        assert changed.target.watchlists == ("arms",)

        http_server.route("/story", status=404, body=b"gone")
        (removed,) = recheck(store, timedelta(days=7))
        assert removed.change.kind == "removed"
        assert recheck(store, timedelta(days=30)) == []  # the schedule is spent

        config = load_config(config_path)
        notifiers = {n.name: n for n in config.settings.notifiers}
        asyncio.run(send_alerts([changed, removed], notifiers, config.routes, timeout=5))
        bodies = [json.dumps(post.json) for post in webhook_server.posts]
        assert len(bodies) == 2
        assert "article changed" in bodies[0] and "every permit for the sensors" in bodies[0]
        assert "article removed" in bodies[1]

        hit = next(h for h in store.hits(limit=None) if h.title.startswith("Ottawa"))
        out = tmp_path / "evidence"
        export_evidence(Archive(store), hit.id, out)
        manifest = json.loads((out / "manifest.json").read_text())
        assert [c["kind"] for c in manifest["captures"]] == ["page", "unchanged", "changed", "removed"]
        assert [c["status"] for c in manifest["captures"]] == [200, 200, 200, 404]
        assert len(manifest["versions"]) == 2 and NEW_SENTENCE in (out / "text-2.txt").read_text()
        with (out / "evidence.warc.gz").open("rb") as handle:
            kinds = [
                (r.rec_type, r.http_headers.get_statuscode() if r.http_headers else None)
                for r in ArchiveIterator(handle)
            ]
        assert kinds == [
            ("response", "200"),
            ("conversion", None),
            ("response", "200"),
            ("conversion", None),
            ("response", "404"),
        ]
    finally:
        store.close()
