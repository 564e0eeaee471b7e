"""Feed parsing on every corpus feed file: the fast path against feedparser alone (`python -m bench parsing`).

Each file of ``$MONITOR_CORPUS/feeds`` (all sizes, malformed ones, gzip bodies, JSON Feeds and HTML pages
included, in the corpus's own size mix) is parsed by ``parse_feed`` with the fast path and with
feedparser alone, alternately, several rounds, in one process; CPU time is summed per file. Writes the
"Parsing" section of docs/benchmarks.md: the overall ratio, the ratio on the files the fast path reads,
and every file that falls back to feedparser with the reason.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

from bench.common import write_section
from monitor.errors import FeedParseError
from monitor.feeds import parse_feed
from monitor.models import ParsedFeed

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
ROUNDS = 3


def feeds_folder() -> Path:
    return Path(os.environ.get("MONITOR_CORPUS", ROOT.parent / "shared" / "corpus")) / "feeds"


def corpus_files() -> list[Path]:
    root = feeds_folder()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    if not files:
        raise SystemExit(f"no feed files under {root}: set MONITOR_CORPUS")
    return files


def timed(body: bytes, url: str, *, fast: bool) -> tuple[float, ParsedFeed | None]:
    started = time.process_time()
    try:
        parsed: ParsedFeed | None = parse_feed(body, url=url, fast=fast)
    except FeedParseError:
        parsed = None
    return time.process_time() - started, parsed


def main() -> None:
    root = feeds_folder()
    files = [(p.relative_to(root).as_posix(), p.read_bytes()) for p in corpus_files()]
    fast_cpu: Counter[str] = Counter()
    reference_cpu: Counter[str] = Counter()
    outcome: dict[str, ParsedFeed | None] = {}
    for _ in range(ROUNDS):
        for name, body in files:
            url = f"https://example.org/{name}"
            seconds, outcome[name] = timed(body, url, fast=True)
            fast_cpu[name] += seconds
            seconds, _parsed = timed(body, url, fast=False)
            reference_cpu[name] += seconds
    fast_names = [n for n, p in outcome.items() if p is not None and p.parser == "fast"]
    fallbacks = sorted((n, p.fallback) for n, p in outcome.items() if p is not None and p.fallback)
    others = len(files) - len(fast_names) - len(fallbacks)
    total_fast, total_ref = sum(fast_cpu.values()), sum(reference_cpu.values())
    fast_only = sum(fast_cpu[n] for n in fast_names), sum(reference_cpu[n] for n in fast_names)
    size = sum(len(body) for _, body in files)
    reasons = Counter(_kind(reason) for _, reason in fallbacks)
    lines = [
        "## Parsing",
        "",
        f"`python -m bench parsing`: all {len(files)} files of the corpus's feeds folder ({size / 1e6:.1f} MB; every",
        "size, malformed feeds, gzip bodies, JSON Feeds and HTML pages included), each parsed by `parse_feed`",
        f"with the fast path and with feedparser alone, alternately, {ROUNDS} rounds in one process; CPU seconds",
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: ratios, not absolute times, are the result).",
        "",
        "| files | count | feedparser alone, CPU s | with the fast path, CPU s | speed-up |",
        "|---|---|---|---|---|",
        f"| all | {len(files)} | {total_ref:.2f} | {total_fast:.2f} | {total_ref / total_fast:.1f}x |",
        f"| read by the fast path | {len(fast_names)} | {fast_only[1]:.2f} | {fast_only[0]:.2f} "
        f"| {fast_only[1] / fast_only[0]:.1f}x |",
        f"| left to feedparser | {len(fallbacks)} | | | |",
        f"| JSON Feeds and errors (same code on both paths) | {others} | | | |",
        "",
        "Why feeds fall back (the fast path answers only when it can vouch for the same entries, links, titles,",
        "dates and summaries as feedparser; tests/test_feeds_fast.py checks every file):",
        "",
        *[f"- {kind}: {count}" for kind, count in reasons.most_common()],
        "",
        "<details><summary>every file that falls back, and why</summary>",
        "",
        *[f"- `{name}`: {reason}" for name, reason in fallbacks],
        "",
        "</details>",
        "",
    ]
    write_section(DOC, "\n".join(lines))
    print("\n".join(lines[:14]))


def _kind(reason: str | None) -> str:
    text = reason or ""
    for prefix in ("not well-formed XML", "encoded as", "fast parser failed", "fast parser found"):
        if text.startswith(prefix):
            return prefix + " ..."
    return text
