"""The web benchmark's database: 100,000 articles from the real corpus news texts (each text many times, with
its own URL, feed and date over 200 days, copies grouped in stories of three), 10,000 hits over five
watchlists with snippets from the article's own text, a tenth of them triaged, one delivery each, and the
feeds' rows. Written with bulk inserts straight into the store's tables (the search index is left empty: the
pages and API measured here do not read it), after the real migrations made the schema."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.common import build_database, corpus_texts, in_batches
from monitor.store import Store
from monitor.store.tables import articles, deliveries, feeds, hit_labels, hits

ARTICLES = int(os.environ.get("BENCH_WEB_ARTICLES", "100000"))
HITS = int(os.environ.get("BENCH_WEB_HITS", "10000"))
FEEDS = 50
STORY_SIZE = 3
NOW = datetime(2026, 11, 30, tzinfo=UTC)
WATCHLISTS = {
    "arms-exports": ["Wescam", "Baykar", "export permit*"],
    "elections": ["election*", "ballot*"],
    "courts": ["court", "judge*"],
    "health": ["vaccin*", "pandemic"],
    "energy": ["oil", "pipeline*"],
}
LANGUAGES = ("en", "en", "en", "fr", "de")
BATCH = 2_000


def feed_name(number: int) -> str:
    return f"feed-{number % FEEDS:02d}"


def _article_rows(texts: list[dict[str, str]]) -> Iterator[dict[str, Any]]:
    span = timedelta(days=200) / ARTICLES
    for number in range(ARTICLES):
        item = texts[number % len(texts)]
        at = NOW - span * (ARTICLES - number)
        url = f"https://news.example/{number}"
        yield {
            "id": number + 1,
            "key": url,
            "feed": feed_name(number),
            "url": url,
            "title": item.get("title") or "",
            "summary": item.get("summary") or "",
            "text": item.get("body") or "",
            "sitename": f"Outlet {number % FEEDS:02d}",
            "published_at": at,
            "first_seen_at": at,
            "language": LANGUAGES[number % len(LANGUAGES)],
            "story_id": number - number % STORY_SIZE + 1,
        }


def _snippet(text: str, term: str) -> dict[str, Any]:
    start = max(0, text.find(" ", len(text) // 3))
    part = text[start : start + 200] or term
    return {"field": "body", "text": part, "marks": [[0, min(len(part), len(term))]]}


def _hit_rows(texts: list[dict[str, str]], rng: random.Random) -> list[dict[str, Any]]:
    chosen = sorted(rng.sample(range(ARTICLES), HITS))
    span = timedelta(days=200) / ARTICLES
    rows = []
    names = list(WATCHLISTS)
    for hit_id, number in enumerate(chosen, start=1):
        watchlist = names[number % len(names)]
        term = WATCHLISTS[watchlist][number % len(WATCHLISTS[watchlist])]
        body = texts[number % len(texts)].get("body") or ""
        rows.append(
            {
                "id": hit_id,
                "article_id": number + 1,
                "watchlist": watchlist,
                "matched": json.dumps([term]),
                "fields": json.dumps(["body"]),
                "snippets": json.dumps([_snippet(body, term)]),
                "found_at": NOW - span * (ARTICLES - number) + timedelta(minutes=3),
                "alerted": True,
                "found_as": json.dumps([f'"{term}" exact']),
            }
        )
    return rows


def build(path: Path) -> dict[str, int]:
    """Make the database at ``path``; returns what it holds."""
    _, size = build_database(path, _fill, analyze=True)
    return {"articles": ARTICLES, "hits": HITS, "labelled": HITS // 10, "bytes": size}


def _fill(store: Store) -> None:
    texts = corpus_texts()
    rng = random.Random(20261130)
    with store.engine.begin() as conn:
        for batch in in_batches(_article_rows(texts), BATCH):
            conn.execute(insert(articles), batch)
        hit_rows = _hit_rows(texts, rng)
        conn.execute(insert(hits), hit_rows)
        labelled = rng.sample(hit_rows, len(hit_rows) // 10)
        conn.execute(
            insert(hit_labels),
            [
                {
                    "article_id": row["article_id"],
                    "watchlist": row["watchlist"],
                    "label": rng.choice(("relevant", "irrelevant", "unsure")),
                    "note": None,
                    "labelled_at": NOW,
                }
                for row in labelled
            ],
        )
        conn.execute(
            insert(deliveries),
            [
                {
                    "hit_id": row["id"],
                    "notifier": "desk-mail",
                    "status": "sent",
                    "attempts": 1,
                    "sent_targets": "[0]",
                    "created_at": row["found_at"],
                    "sent_at": row["found_at"],
                }
                for row in hit_rows
            ],
        )
        conn.execute(
            insert(feeds),
            [
                {
                    "name": feed_name(n),
                    "url": f"https://{feed_name(n)}.example/rss",
                    "consecutive_failures": 0,
                    "entries_seen": ARTICLES // FEEDS,
                    "gone": False,
                    "last_status": "ok",
                    "last_polled_at": NOW,
                    "next_poll_at": NOW + timedelta(minutes=10),
                }
                for n in range(FEEDS)
            ],
        )


def config_text(database: Path, token: str) -> str:
    """The config the served desk reads: the benchmark's feeds and watchlists, and a token."""
    lines = ["[monitor]", f'database = "sqlite:///{database}"', ""]
    for n in range(FEEDS):
        lines += ["[[feed]]", f'name = "{feed_name(n)}"', f'url = "https://{feed_name(n)}.example/rss"', ""]
    for name, terms in WATCHLISTS.items():
        lines += ["[[watchlist]]", f'name = "{name}"', f"terms = {json.dumps(terms)}", ""]
    lines += ["[web]", f'token = "{token}"', ""]
    return "\n".join(lines)
