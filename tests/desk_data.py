"""A desk over a real SQLite database with known contents: corpus articles, the hits two watchlists make on
them, a hostile title, feeds' poll states, deliveries and page retries; served through ``create_app``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from starlette.testclient import TestClient

from monitor.config.compiled import Config, load_config
from monitor.models import Article, FeedUpdate, Finding, PendingPage
from monitor.store import DeliveryOutcome, Store
from monitor.web.app import create_app
from tests.archive_corpus import FEEDS, T0, corpus_articles
from tests.factory import write_config

TOKEN = "desk-token-4f9a2c"
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> Police & "friends" \x0b'
WATCHLISTS = [
    {"name": "police", "terms": ["police"]},
    {"name": "court", "terms": ["court", "judge"]},
    {"name": "quiet", "terms": ["zzzunmatchedzzz"]},
]
ARTICLES = 120


@dataclass
class Desk:
    config: Config
    store: Store
    client: TestClient
    articles: list[Article]


def desk_config(folder: Path, token: str | None) -> Config:
    path = write_config(
        folder,
        feeds=[{"name": name, "url": f"https://{name}.example/feed"} for name in FEEDS],
        watchlists=[{**w, "notify": ["console"]} for w in WATCHLISTS],
        notifiers=[{"name": "console"}],
    )
    if token is not None:
        path.write_text(path.read_text(encoding="utf-8") + f'\n[web]\ntoken = "{token}"\n', encoding="utf-8")
    return load_config(path, {})


def corpus_with_hostile() -> list[Article]:
    found = list(corpus_articles(ARTICLES))
    # The newest article carries a title written to break out of markup, and a known language.
    found[0] = replace(found[0], title=HOSTILE, language="fr")
    return found


def fill_desk(store: Store, config: Config) -> list[Article]:
    """Store the articles with the watchlists' matches (each hit owed to the console notifier), feed states
    and two page retries; the first delivery is then recorded as sent and the second as failed."""
    found = corpus_with_hostile()
    findings = []
    for number, article in enumerate(found):
        retry = None
        if number in (5, 6):
            retry = PendingPage(article.key, article.feed, article.url or "", None, 1, 0, T0, T0, "timeout")
        findings.append(Finding(article, tuple(config.matcher.match(article.fields())), True, retry))
    # One at a time, oldest first: found_at follows the articles' order, newest last.
    for finding in reversed(findings):
        store.save_articles([finding], config.routes, now=finding.article.first_seen)
    store.sync_feeds({feed.name: feed.url for feed in config.settings.feeds})
    store.record_poll(FeedUpdate("wire", T0, "ok", T0 + timedelta(minutes=5), 0, 40))
    store.record_poll(FeedUpdate("daily", T0, "error", T0 + timedelta(hours=1), 3, None, error="timeout"))
    due = store.outbox.due(T0 + timedelta(days=1))
    store.outbox.record(
        [
            DeliveryOutcome(due[0].id, sent=True),
            DeliveryOutcome(due[1].id, sent=False, error="refused", next_attempt=T0 + timedelta(hours=1)),
        ],
        T0,
    )
    return found


def open_desk(folder: Path, token: str | None = TOKEN) -> Iterator[Desk]:
    config = desk_config(folder, token)
    store = Store.open(config.settings.monitor.database)
    found = fill_desk(store, config)
    with TestClient(create_app(config, store=store), base_url="http://127.0.0.1:8765") as client:
        yield Desk(config, store, client, found)
    store.close()
