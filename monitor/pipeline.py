"""One feed's poll, end to end: fetch, parse, keep the new entries, fetch and extract their pages, match, store.

The parts (HTTP client, worker pool, store, matcher) are passed in; the time is an argument. A failing feed or
page is an outcome recorded in the store and returned as a value, never an exception that stops other feeds.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor import extract, feeds
from monitor.errors import ExtractError, FeedParseError, FetchError
from monitor.fetch import PAGE_ACCEPT, Fetcher
from monitor.match import Matcher
from monitor.models import Article, Entry, FeedState, FetchResult, Finding, Page, ParsedFeed, PollResult
from monitor.store import Store
from monitor.workers import WorkerPool

log = logging.getLogger("monitor.poll")

# Feeds smaller than this are parsed on the event loop: shipping them to a worker costs more than parsing.
# Anything larger goes to the worker processes, so that feedparser (most of a cold cycle's CPU) runs on every
# core while the loop fetches, matches and stores.
INLINE_PARSE_LIMIT = 4 * 1024


@dataclass(frozen=True, slots=True)
class FeedJob:
    """What a poll needs to know about one configured feed."""

    name: str
    url: str
    interval: float
    fulltext: bool


@dataclass(frozen=True, slots=True)
class PollLimits:
    max_feed_size: int
    max_page_size: int
    extract_timeout: float
    notify_max_age: float
    max_backoff: float
    pages_in_flight: int = 20  # pages downloaded or being extracted at once, across all feeds


@dataclass(slots=True)
class Pipeline:
    fetcher: Fetcher
    workers: WorkerPool
    store: Store
    matcher: Matcher
    routes: Mapping[str, Sequence[str]]  # watchlist -> notifier names
    limits: PollLimits
    rng: random.Random = field(default_factory=random.Random)
    # Bounds the pages held in memory: without it every new entry's page is downloaded at once and waits
    # for a worker, which in a busy cycle means hundreds of pages in the main process.
    page_slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.page_slots = asyncio.Semaphore(self.limits.pages_in_flight)

    async def poll_many(self, jobs: Sequence[FeedJob], now: datetime) -> list[PollResult]:
        """Poll feeds concurrently, a bounded number at a time: enough to keep every connection busy, few
        enough that fetched feeds do not pile up in memory while they wait for a parser."""
        slots = asyncio.Semaphore(self.limits.pages_in_flight * 2)

        async def poll_in_slot(job: FeedJob) -> PollResult:
            async with slots:
                return await self.poll_safely(job, now)

        return list(await asyncio.gather(*(poll_in_slot(job) for job in jobs)))

    async def poll_safely(self, job: FeedJob, now: datetime) -> PollResult:
        """``poll``, except that a bug or a database error in one feed's poll is logged and returned as that
        feed's error instead of ending the cycle for every feed."""
        try:
            return await self.poll(job, now)
        except Exception as exc:
            log.exception("feed=%s poll crashed", job.name)
            return PollResult(job.name, "error", error=f"internal error: {type(exc).__name__}: {exc}")

    async def poll(self, job: FeedJob, now: datetime) -> PollResult:
        started = time.monotonic()
        state = self.store.feed_state(job.name)
        try:
            fetched = await self.fetcher.fetch(
                state.fetch_url,
                max_size=self.limits.max_feed_size,
                etag=state.etag,
                last_modified=state.last_modified,
            )
        except FetchError as exc:
            return self._failed(
                job, state, now, exc.reason, started, retry_after=exc.retry_after, gone=exc.permanent
            )
        moved = _moved_to(fetched, state)
        if fetched.not_modified:
            self._succeeded(job, state, now, fetched, "not-modified", 0, moved)
            return PollResult(job.name, "not-modified", elapsed=time.monotonic() - started)
        try:
            parsed = await self._parse(fetched)
        except (FeedParseError, TimeoutError) as exc:
            reason = exc.reason if isinstance(exc, FeedParseError) else "feed took too long to parse"
            return self._failed(job, state, now, reason, started)

        new_entries = self._new_entries(parsed.entries)
        fetched_articles = await asyncio.gather(*(self._article(job, entry, now) for entry in new_entries))
        articles = [article for article, _ in fetched_articles]
        hits = self._store(articles, now, [response for _, response in fetched_articles])
        self._succeeded(job, state, now, fetched, "ok", len(new_entries), moved)
        page_errors = tuple(f"{a.url}: {a.fetch_error}" for a in articles if a.fetch_error)
        return PollResult(
            job.name,
            "ok",
            new_entries=len(new_entries),
            hits=hits,
            warning=parsed.warning,
            elapsed=time.monotonic() - started,
            page_errors=page_errors,
        )

    async def _parse(self, fetched: FetchResult) -> ParsedFeed:
        headers = dict(fetched.headers)
        headers.pop("content-encoding", None)
        if len(fetched.body) <= INLINE_PARSE_LIMIT:
            return feeds.parse_feed(fetched.body, url=fetched.final_url, headers=headers)
        parse = functools.partial(feeds.parse_feed, url=fetched.final_url, headers=headers)
        parsed: ParsedFeed = await self.workers.run(parse, fetched.body, timeout=self.limits.extract_timeout)
        return parsed

    def _new_entries(self, entries: Sequence[Entry]) -> list[Entry]:
        unique = {entry.key: entry for entry in reversed(entries)}  # the first occurrence wins
        unseen = self.store.unseen(unique)
        return [entry for key, entry in reversed(unique.items()) if key in unseen]

    async def _article(self, job: FeedJob, entry: Entry, now: datetime) -> tuple[Article, FetchResult | None]:
        """The article, and the response its text came from (kept as evidence when it hits)."""
        page: Page | None = None
        error: str | None = None
        response: FetchResult | None = None
        if job.fulltext and entry.url and entry.url.startswith(("http://", "https://", "file://")):
            async with self.page_slots:
                page, error, response = await fetch_page_response(
                    self.fetcher,
                    self.workers,
                    entry.url,
                    max_size=self.limits.max_page_size,
                    extract_timeout=self.limits.extract_timeout,
                    linked_from=job.url,
                )
        article = Article(
            feed=job.name,
            key=entry.key,
            url=entry.url,
            guid=entry.guid,
            title=entry.title or (page.title if page and page.title else ""),
            summary=entry.summary,
            text=page.text if page else "",
            published=entry.published or now,
            first_seen=now,
            author=entry.author or (page.author if page else None),
            sitename=page.sitename if page else None,
            fetch_error=error,
        )
        return article, response

    async def fetch_page(self, url: str, linked_from: str | None = None) -> tuple[Page | None, str | None]:
        """The extracted page, or why there is none (the entry is then matched on its title and summary)."""
        async with self.page_slots:
            return await fetch_page(
                self.fetcher,
                self.workers,
                url,
                max_size=self.limits.max_page_size,
                extract_timeout=self.limits.extract_timeout,
                linked_from=linked_from,
            )

    def _store(
        self,
        articles: Sequence[Article],
        now: datetime,
        responses: Sequence[FetchResult | None] | None = None,
    ) -> int:
        """Match the new articles and store them with their hits in one transaction; returns the hits stored."""
        oldest_alerted = now - timedelta(seconds=self.limits.notify_max_age)
        pages = responses or [None] * len(articles)
        findings = [
            Finding(
                article,
                tuple(self.matcher.match(article.fields())),
                article.published >= oldest_alerted,
                page,
            )
            for article, page in zip(articles, pages, strict=True)
        ]
        saved = self.store.save_articles(findings, self.routes, now=now)
        for finding in findings:
            if finding.article.key not in saved:
                continue  # another poll stored it first
            for match in finding.matches:
                log.info(
                    "hit watchlist=%s feed=%s matched=%s url=%s%s",
                    match.watchlist,
                    finding.article.feed,
                    ", ".join(match.matched),
                    finding.article.url,
                    "" if finding.alert else " (too old to alert)",
                )
        return sum(len(hit_ids) for hit_ids in saved.values())

    def _succeeded(
        self,
        job: FeedJob,
        state: FeedState,
        now: datetime,
        fetched: FetchResult,
        status: str,
        new_entries: int,
        moved: str | None,
    ) -> None:
        values: dict[str, object] = {
            "last_polled_at": now,
            "last_status": status,
            "last_error": None,
            "consecutive_failures": 0,
            "entries_seen": state.entries_seen + new_entries,
            "next_poll_at": now + timedelta(seconds=job.interval),
            "gone": False,
        }
        if status == "ok":
            values |= {"etag": fetched.etag, "last_modified": fetched.last_modified}
        if moved:
            values["current_url"] = moved
            log.warning("feed=%s moved permanently to %s; polling the new address", job.name, moved)
        self.store.record_poll(job.name, **values)

    def _failed(
        self,
        job: FeedJob,
        state: FeedState,
        now: datetime,
        reason: str,
        started: float,
        *,
        retry_after: float | None = None,
        gone: bool = False,
    ) -> PollResult:
        failures = state.consecutive_failures + 1
        delay = backoff_delay(job.interval, failures, self.limits.max_backoff, retry_after, self.rng)
        self.store.record_poll(
            job.name,
            last_polled_at=now,
            last_status="error",
            last_error=reason,
            consecutive_failures=failures,
            next_poll_at=now + timedelta(seconds=delay),
            gone=gone,
        )
        return PollResult(job.name, "error", error=reason, elapsed=time.monotonic() - started)


async def fetch_page(
    fetcher: Fetcher,
    workers: WorkerPool,
    url: str,
    *,
    max_size: int,
    extract_timeout: float,
    linked_from: str | None = None,
) -> tuple[Page | None, str | None]:
    """An article page fetched and extracted, or why there is none: what the pipeline and `monitor match` use."""
    page, error, _ = await fetch_page_response(
        fetcher, workers, url, max_size=max_size, extract_timeout=extract_timeout, linked_from=linked_from
    )
    return page, error


async def fetch_page_response(
    fetcher: Fetcher,
    workers: WorkerPool,
    url: str,
    *,
    max_size: int,
    extract_timeout: float,
    linked_from: str | None = None,
) -> tuple[Page | None, str | None, FetchResult | None]:
    """``fetch_page`` with the response the page came from, when there was one."""
    fetched: FetchResult | None = None
    try:
        fetched = await fetcher.fetch(url, max_size=max_size, accept=PAGE_ACCEPT, linked_from=linked_from)
        if not extract.is_html(fetched):
            kind = fetched.headers.get("content-type", "unknown type").split(";")[0]
            return None, f"not an HTML page ({kind})", fetched
        markup = extract.page_markup(fetched)
        page = await workers.run(extract.extract_page, markup, fetched.final_url, timeout=extract_timeout)
        return page, None, fetched
    except (FetchError, ExtractError) as exc:
        return None, exc.reason, fetched
    except TimeoutError:
        return None, f"extraction took longer than {extract_timeout:g}s", fetched


def backoff_delay(
    interval: float, failures: int, max_backoff: float, retry_after: float | None, rng: random.Random
) -> float:
    """Seconds until the next poll of a failing feed: the interval doubled per failure, capped, jittered by up
    to 10 %, never sooner than the server's Retry-After."""
    delay = float(min(interval * 2 ** max(failures - 1, 0), max(max_backoff, interval)))
    delay *= 1 + rng.random() * 0.1
    return max(delay, retry_after or 0.0)


def _moved_to(fetched: FetchResult, state: FeedState) -> str | None:
    if fetched.permanent_redirect and fetched.permanent_redirect != state.fetch_url:
        return fetched.permanent_redirect
    return None


def poll_summary(result: PollResult) -> str:
    """The one log line per poll."""
    text = (
        f"poll feed={result.feed} status={result.status} new={result.new_entries} "
        f"hits={result.hits} time={result.elapsed:.2f}s"
    )
    if result.error:
        text += f" error={result.error!r}"
    if result.warning:
        text += f" warning={result.warning!r}"
    if result.page_errors:
        text += f" pages_without_text={len(result.page_errors)}"
    return text
