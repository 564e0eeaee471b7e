"""Floors and the naive baseline for the pipeline benchmark, measured on the farm's bytes in this process.

- download floor: every body fetched by one tuned async httpx client (many keep-alive connections, no limits
  per host), nothing else done;
- parse floor: the CPU time of our own parser (``monitor.feeds.parse_feed``: the fast path, feedparser where it
  falls back) over every feed body, divided by the cores; ``feedparser_cpu`` is feedparser alone, for comparison;
- extraction floor: trafilatura's CPU time over every page, divided by the cores;
- naive baseline: ``feedparser.parse(url)`` for each feed in turn, the way simple scripts do (feedparser
  fetching with urllib: a new connection a feed, gzip and no conditional request).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import feedparser
import httpx
import trafilatura

from monitor.errors import FeedParseError
from monitor.feeds import parse_feed

CORES = os.cpu_count() or 1
FLOOR_CONCURRENCY = 100
RETRIES = 3


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    body: bytes
    headers: Mapping[str, str]


async def _download(
    urls: Sequence[str], conditional: Mapping[str, Mapping[str, str]] | None
) -> tuple[float, float, list[Fetched]]:
    limits = httpx.Limits(max_connections=FLOOR_CONCURRENCY, max_keepalive_connections=FLOOR_CONCURRENCY)
    gate = asyncio.Semaphore(FLOOR_CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one(url: str) -> Fetched:
            async with gate:
                for attempt in range(RETRIES):
                    try:
                        response = await client.get(url, headers=(conditional or {}).get(url))
                        break
                    except (
                        httpx.TransportError
                    ):  # the loaded machine's loopback drops a connection now and then
                        if attempt == RETRIES - 1:
                            raise
                return Fetched(url, response.status_code, response.content, dict(response.headers))

        started, cpu = time.perf_counter(), time.process_time()
        fetched = await asyncio.gather(*(one(url) for url in urls))
        return time.perf_counter() - started, time.process_time() - cpu, list(fetched)


def download_floor(
    urls: Sequence[str], conditional: Mapping[str, Mapping[str, str]] | None = None, *, runs: int = 2
) -> tuple[float, float, list[Fetched]]:
    """The best wall time of ``runs`` downloads of ``urls``, the CPU time of that run, and the bodies of the
    last."""
    best = (float("inf"), 0.0)
    fetched: list[Fetched] = []
    for _ in range(runs):
        elapsed, cpu, fetched = asyncio.run(_download(urls, conditional))
        best = min(best, (elapsed, cpu))
    return best[0], best[1], fetched


def parse_cpu(bodies: Sequence[Fetched]) -> float:
    """Our parser's CPU seconds over every body (one core): what the pipeline itself has to spend."""
    started = time.process_time()
    for item in bodies:
        headers = {k: v for k, v in item.headers.items() if k.lower() != "content-encoding"}
        with contextlib.suppress(FeedParseError):  # a malformed feed costs its parse all the same
            parse_feed(item.body, url=item.url, headers=headers)
    return time.process_time() - started


def feedparser_cpu(bodies: Sequence[Fetched]) -> float:
    """feedparser's CPU seconds over every body (one core)."""
    started = time.process_time()
    for item in bodies:
        headers = {"content-type": item.headers.get("content-type", ""), "content-location": item.url}
        feedparser.parse(io.BytesIO(item.body), response_headers=headers)
    return time.process_time() - started


def extraction_cpu(pages: Sequence[Fetched]) -> float:
    """trafilatura's CPU seconds over every page (one core), after one warm-up call."""
    trafilatura.bare_extraction(pages[0].body, url=pages[0].url, with_metadata=True)
    started = time.process_time()
    for page in pages:
        trafilatura.bare_extraction(page.body, url=page.url, with_metadata=True)
    return time.process_time() - started


def naive_baseline(urls: Sequence[str]) -> tuple[float, int]:
    """``feedparser.parse(url)`` for each feed in turn: (wall seconds, entries read)."""
    entries = 0
    started = time.perf_counter()
    for url in urls:
        entries += len(feedparser.parse(url).entries)
    return time.perf_counter() - started, entries
