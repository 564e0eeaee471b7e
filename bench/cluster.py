"""Clustering benchmark: near-duplicate stories through the real store, on one core.

1. Speed: the corpus's 5,000 real articles plus generated wire copies saved in batches of 50 (one feed's poll)
   into a SQLite file, with stories and without (the floor: the same saves with every article a story of its
   own). Clustering's cost is the fingerprints plus the difference between the two; its rate is articles
   over that cost. Peak traced memory of the clustered run at half and at the whole archive shows it bounded.
2. Quality: pairwise precision and recall on the labelled set of tests/nearduplicates.py across thresholds.
3. Minimum length: 2,000 teasers (a real title and the same 19-word boilerplate line) clustered at each
   minimum shingle count; every join among them is a false one.
Writes bench/results/cluster.json and the "Clustering" section of docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import random
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.common import write_section
from monitor import stories
from monitor.models import Article, Finding
from monitor.store import Store
from monitor.store.tables import articles
from tests import nearduplicates

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "cluster.json"
DOC = ROOT / "docs" / "benchmarks.md"
T0 = datetime(2026, 11, 30, tzinfo=UTC)
BATCH = 50
TARGET_RATE = 2_000.0
TARGET_QUALITY = 0.95
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
MIN_LENGTHS = (0, 10, 20, 30, 40, 50, 60, 80)
TEASER_TAIL = (
    "Read more of this story at our website and sign up for our free morning newsletter for the top stories"
)


def _article(n: int, title: str, text: str, summary: str = "") -> Article:
    at = T0 + timedelta(seconds=n)
    url = f"https://outlet{n % 7}.example/{n}"
    return Article(
        feed=f"feed{n % 7}", key=url, url=url, guid=None, title=title, summary=summary, text=text,
        published=at, first_seen=at,
    )  # fmt: skip


def _archive(corpus: Path) -> list[Article]:
    """The whole corpus, then the labelled set's copies, in a seeded order."""
    records = nearduplicates.read_corpus(corpus)
    items = [(r["title"], r["body"]) for r in records]
    items += [(i.title, i.text) for i in nearduplicates.labelled_set(corpus) if i.kind == "copy"]
    random.Random(11).shuffle(items)
    return [_article(n, title, text) for n, (title, text) in enumerate(items)]


def _save_all(url: str, found: Sequence[Finding], clustered: bool) -> float:
    """CPU seconds to save every finding in batches of BATCH."""
    store = Store.open(url)
    started = time.process_time()
    for start in range(0, len(found), BATCH):
        store.save_articles(found[start : start + BATCH], {}, now=T0, stories=stories if clustered else None)
    elapsed = time.process_time() - started
    store.close()
    return elapsed


def _traced_peaks(url: str, found: Sequence[Finding]) -> list[float]:
    """Peak traced MB of saving one batch with stories, at half and at the end of the archive (a separate
    run: tracing slows Python several times over)."""
    store = Store.open(url)
    peaks: list[float] = []
    middle, last = len(found) // BATCH // 2, (len(found) - 1) // BATCH
    for start in range(0, len(found), BATCH):
        if start // BATCH in (middle, last):
            tracemalloc.start()
        store.save_articles(found[start : start + BATCH], {}, now=T0, stories=stories)
        if tracemalloc.is_tracing():
            peaks.append(tracemalloc.get_traced_memory()[1] / 1e6)
            tracemalloc.stop()
    store.close()
    return peaks


def speed(corpus: Path) -> dict[str, Any]:
    archive = _archive(corpus)
    started = time.process_time()
    fingerprints = [stories.fingerprint(stories.clustering_text(a.title, a.summary, a.text)) for a in archive]
    fingerprint_s = time.process_time() - started
    found = [Finding(a, (), True, fingerprint=fp) for a, fp in zip(archive, fingerprints, strict=True)]
    plain = [Finding(a, (), True) for a in archive]
    with tempfile.TemporaryDirectory() as tmp:
        floor_s = _save_all(f"sqlite:///{tmp}/floor.db", plain, clustered=False)
        clustered_s = _save_all(f"sqlite:///{tmp}/stories.db", found, clustered=True)
        peaks = _traced_peaks(f"sqlite:///{tmp}/traced.db", found)
        store = Store.open(f"sqlite:///{tmp}/stories.db")
        with store.engine.begin() as conn:
            rows = conn.execute(select(articles.c.id, articles.c.story_id))
            joined = sum(1 for row in rows if row.id != row.story_id)
        store.close()
    cost = fingerprint_s + max(clustered_s - floor_s, 0.0)
    return {
        "articles": len(archive),
        "fingerprint_s": round(fingerprint_s, 3),
        "save_floor_s": round(floor_s, 3),
        "save_clustered_s": round(clustered_s, 3),
        "cluster_rate": round(len(archive) / cost, 1),
        "fingerprint_rate": round(len(archive) / fingerprint_s, 1),
        "joined": joined,
        "peak_mb_half": round(peaks[0], 2),
        "peak_mb_end": round(peaks[-1], 2),
    }


def _cluster(texts: Sequence[tuple[str, str]]) -> list[int]:
    """Story ids of texts saved in order through a fresh SQLite store."""
    found = [
        Finding(
            a, (), True, fingerprint=stories.fingerprint(stories.clustering_text(a.title, a.summary, a.text))
        )
        for a in (_article(n, title, text) for n, (title, text) in enumerate(texts))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/q.db")
        for start in range(0, len(found), BATCH):
            store.save_articles(found[start : start + BATCH], {}, now=T0, stories=stories)
        with store.engine.begin() as conn:
            by_key = {
                row.key: row.story_id for row in conn.execute(select(articles.c.key, articles.c.story_id))
            }
        store.close()
    return [by_key[f.article.key] for f in found]


def quality(corpus: Path) -> list[dict[str, Any]]:
    items = nearduplicates.labelled_set(corpus)
    chosen = stories.MIN_CONTAINMENT
    rows = []
    try:
        for threshold in THRESHOLDS:
            stories.MIN_CONTAINMENT = threshold
            predicted = _cluster([(i.title, i.text) for i in items])
            precision, recall = nearduplicates.precision_recall([i.story for i in items], predicted)
            rows.append(
                {"threshold": threshold, "precision": round(precision, 4), "recall": round(recall, 4)}
            )
    finally:
        stories.MIN_CONTAINMENT = chosen
    return rows


def minimum_length(corpus: Path) -> list[dict[str, Any]]:
    records = nearduplicates.read_corpus(corpus)[:2_000]
    texts = [(r["title"], f"{r['title']}\n{TEASER_TAIL}") for r in records]
    chosen = stories.MIN_SHINGLES
    rows = []
    try:
        for minimum in MIN_LENGTHS:
            stories.MIN_SHINGLES = minimum
            predicted = _cluster(texts)
            false_joins = sum(1 for n, story in enumerate(predicted) if story != n + 1)  # ids count from 1
            summaries = sum(
                1 for r in records if len(stories.shingles(f"{r['title']}\n{r['summary']}")) >= minimum
            )
            rows.append(
                {
                    "min_shingles": minimum,
                    "false_joins": false_joins,
                    "summaries_fingerprinted": summaries / len(records),
                }
            )
    finally:
        stories.MIN_SHINGLES = chosen
    return rows


def main() -> None:
    root = os.environ.get("MONITOR_CORPUS")
    corpus = nearduplicates.corpus_path()
    if corpus is None:
        raise SystemExit(f"MONITOR_CORPUS ({root}) does not hold news-text/finescoop-2020.jsonl")
    results = {
        "run": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "speed": speed(corpus),
        "quality": quality(corpus),
        "minimum_length": minimum_length(corpus),
        "chosen": {"min_containment": stories.MIN_CONTAINMENT, "min_shingles": stories.MIN_SHINGLES},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_section(DOC, _section(results))
    print(json.dumps(results, indent=2))


def _section(results: dict[str, Any]) -> str:
    s = results["speed"]
    chosen = next(q for q in results["quality"] if q["threshold"] == stories.MIN_CONTAINMENT)
    lines = [
        "## Clustering",
        "",
        f"`python -m bench cluster`: {s['articles']:,} articles (the corpus's 5,000 real articles and the "
        f"labelled set's wire copies, shuffled) saved in batches of {BATCH} into a SQLite file, on one core "
        f"(CPU time). Machine: {results['machine']}; run {results['run']}.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| fingerprints (s) | {s['fingerprint_s']} |",
        f"| save without fingerprints or stories: the floor (s) | {s['save_floor_s']} |",
        f"| save with stories: bands looked up, placed, stored (s) | {s['save_clustered_s']} |",
        f"| clustering rate, articles/s: articles / (fingerprints + save above the floor) | {s['cluster_rate']:,} |",
        f"| clustered save / floor | {s['save_clustered_s'] / s['save_floor_s']:.2f} |",
        f"| articles that joined an earlier story | {s['joined']:,} |",
        f"| peak traced MB per batch, at half / at the end of the archive | {s['peak_mb_half']} / {s['peak_mb_end']} |",
        "",
        "Pairwise precision and recall on the labelled set (tests/nearduplicates.py) by containment threshold:",
        "",
        "| threshold | precision | recall |",
        "|---:|---:|---:|",
        *(f"| {q['threshold']} | {q['precision']} | {q['recall']} |" for q in results["quality"]),
        "",
        "False joins among 2,000 teasers (a real title and one shared 19-word boilerplate line) by minimum "
        "shingle count:",
        "",
        "| min shingles | false joins | share of real title + summary texts long enough to cluster |",
        "|---:|---:|---:|",
        *(
            f"| {m['min_shingles']} | {m['false_joins']} | {m['summaries_fingerprinted']:.0%} |"
            for m in results["minimum_length"]
        ),
        "",
        "| target | measured | goal | result |",
        "|---|---:|---:|---|",
        f"| clustering articles/s, one core | {s['cluster_rate']:,} | >= {TARGET_RATE:,.0f} | "
        f"{'pass' if s['cluster_rate'] >= TARGET_RATE else 'FAIL'} |",
        f"| pairwise precision at {stories.MIN_CONTAINMENT} | {chosen['precision']} | >= {TARGET_QUALITY} | "
        f"{'pass' if chosen['precision'] >= TARGET_QUALITY else 'FAIL'} |",
        f"| pairwise recall at {stories.MIN_CONTAINMENT} | {chosen['recall']} | >= {TARGET_QUALITY} | "
        f"{'pass' if chosen['recall'] >= TARGET_QUALITY else 'FAIL'} |",
        "",
    ]
    return "\n".join(lines)
