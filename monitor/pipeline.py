"""One feed's poll, end to end: fetch, parse, keep the new entries, fetch and extract their pages, match, store.

The parts (HTTP client, worker pool, store, matcher) are passed in; the time is an argument. A failing feed or
page is an outcome recorded in the store and returned as a value, never an exception that stops other feeds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor import extract, feeds, page_source
from monitor.errors import ExtractError, FeedParseError, FetchError
from monitor.fetch import PAGE_ACCEPT, Fetcher
from monitor.health_watch import HealthWatch
from monitor.match import Matcher
from monitor.models import (
    Article,
    Entry,
    FeedJob,
    FeedState,
    FetchResult,
    Finding,
    Page,
    ParsedFeed,
    PollResult,
)
from monitor.poll_plan import PollOutcome, PollTiming, plan
from monitor.store import Store
from monitor.workers import WorkerPool

log = logging.getLogger("monitor.poll")

# Feeds smaller than this are parsed on the event loop: shipping them to a worker costs more than parsing.
# Anything larger goes to the worker processes, so that feedparser (most of a cold cycle's CPU) runs on every
# core while the loop fetches, matches and stores.
INLINE_PARSE_LIMIT = 4 * 1024


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
    health: HealthWatch | None = None  # keeps each feed's health samples and tells when its health changes

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
        """``poll``, except that a bug or a database error in one feed's poll is logged, recorded as that feed's
        failure (so it backs off like any other) and returned as its error, instead of ending the cycle for
        every feed."""
        started = time.monotonic()
        try:
            result = await self.poll(job, now)
            if result.status != "ok":
                await self._after_poll(job, result, (), now)
            return result
        except Exception as exc:
            log.exception("feed=%s poll crashed", job.name)
            reason = f"internal error: {type(exc).__name__}: {exc}"
            try:
                return self._record(
                    job, self.store.feed_state(job.name), PollOutcome.failed(reason), now, started
                )
            except Exception:
                log.exception("feed=%s the crash could not be recorded either", job.name)
                return PollResult(job.name, "error", error=reason, elapsed=time.monotonic() - started)

    async def poll(self, job: FeedJob, now: datetime) -> PollResult:
        started = time.monotonic()
        state = self.store.feed_state(job.name)
        try:
            fetched = await self.fetcher.fetch(
                state.fetch_url,
                max_size=self.limits.max_feed_size,
                etag=state.etag,
                last_modified=state.last_modified,
                user_agent=job.user_agent,
                headers=job.headers_for(state.fetch_url),
            )
        except FetchError as exc:
            failed = PollOutcome.failed(exc.reason, retry_after=exc.retry_after, gone=exc.permanent)
            return self._record(job, state, failed, now, started)
        if fetched.not_modified:
            return self._record(job, state, _fetched("not-modified", fetched), now, started)
        try:
            parsed = (
                await self._parse(fetched) if job.page_mode is None else self._read_page(job, fetched, now)
            )
        except (FeedParseError, TimeoutError) as exc:
            reason = exc.reason if isinstance(exc, FeedParseError) else "feed took too long to parse"
            return self._record(job, state, PollOutcome.failed(reason), now, started)

        new_entries = self._new_entries(parsed.entries)
        articles = await asyncio.gather(*(self._article(job, entry, now) for entry in new_entries))
        hits = self._store(articles, now)
        result = self._record(job, state, _fetched("ok", fetched, len(new_entries)), now, started)
        page_errors = tuple(f"{a.url}: {a.fetch_error}" for a in articles if a.fetch_error)
        await self._after_poll(job, result, [a.text for a in articles if a.text or a.fetch_error], now)
        return dataclasses.replace(result, hits=hits, warning=parsed.warning, page_errors=page_errors)

    async def _after_poll(
        self, job: FeedJob, result: PollResult, texts: Sequence[str], now: datetime
    ) -> None:
        if self.health is None:
            return
        try:
            await self.health.after_poll(
                job.name, result.new_entries, texts, result.consecutive_failures, now
            )
        except Exception:
            log.exception("feed=%s its health could not be recorded", job.name)

    def _record(
        self, job: FeedJob, state: FeedState, outcome: PollOutcome, now: datetime, started: float
    ) -> PollResult:
        """Decide what the outcome does to the feed's schedule, store it, and say it as the poll's result."""
        change = plan(state, outcome, now, PollTiming(job.interval, self.limits.max_backoff), self.rng)
        self.store.record_poll(change)
        if change.moved_to:
            log.warning("feed=%s moved permanently to %s; polling the new address", job.name, change.moved_to)
        return PollResult(
            job.name,
            change.status,
            new_entries=outcome.new_entries,
            error=change.error,
            elapsed=time.monotonic() - started,
            next_poll=change.next_poll,
            consecutive_failures=change.consecutive_failures,
        )

    def _read_page(self, job: FeedJob, fetched: FetchResult, now: datetime) -> ParsedFeed:
        """A [[page]] source as a feed: its links, or the sentences its text gained since the last poll."""
        if job.page_mode == "links":
            return page_source.page_links(fetched.body, fetched.final_url, job.selector)
        text = page_source.page_text(fetched.body, fetched.final_url, job.selector)
        before = self.store.health.page_text(job.name)
        self.store.health.save_page_text(job.name, text)
        added = page_source.added_sentences(before, text) if before is not None else []
        title = job.name
        entries = (page_source.text_change_entry(job.url, title, added, now),) if added else ()
        return ParsedFeed(title, entries)

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

    async def _article(self, job: FeedJob, entry: Entry, now: datetime) -> Article:
        page: Page | None = None
        error: str | None = None
        if job.fulltext and entry.url and entry.url.startswith(("http://", "https://", "file://")):
            page, error = await self.fetch_page(
                entry.url, linked_from=job.url, user_agent=job.user_agent, headers=job.headers_for(entry.url)
            )
        return Article(
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

    async def fetch_page(
        self,
        url: str,
        linked_from: str | None = None,
        user_agent: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Page | None, str | None]:
        """The extracted page, or why there is none (the entry is then matched on its title and summary)."""
        async with self.page_slots:
            return await fetch_page(
                self.fetcher,
                self.workers,
                url,
                max_size=self.limits.max_page_size,
                extract_timeout=self.limits.extract_timeout,
                linked_from=linked_from,
                user_agent=user_agent,
                headers=headers,
            )

    def _store(self, articles: Sequence[Article], now: datetime) -> int:
        """Match the new articles and store them with their hits in one transaction; returns the hits stored."""
        oldest_alerted = now - timedelta(seconds=self.limits.notify_max_age)
        findings = [
            Finding(article, tuple(self.matcher.match(article.fields())), article.published >= oldest_alerted)
            for article in articles
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


async def fetch_page(
    fetcher: Fetcher,
    workers: WorkerPool,
    url: str,
    *,
    max_size: int,
    extract_timeout: float,
    linked_from: str | None = None,
    user_agent: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[Page | None, str | None]:
    """An article page fetched and extracted, or why there is none: what the pipeline and `monitor match` use."""
    try:
        fetched = await fetcher.fetch(
            url,
            max_size=max_size,
            accept=PAGE_ACCEPT,
            linked_from=linked_from,
            user_agent=user_agent,
            headers=headers,
        )
        if not extract.is_html(fetched):
            kind = fetched.headers.get("content-type", "unknown type").split(";")[0]
            return None, f"not an HTML page ({kind})"
        markup = extract.page_markup(fetched)
        page = await workers.run(extract.extract_page, markup, fetched.final_url, timeout=extract_timeout)
        return page, None
    except (FetchError, ExtractError) as exc:
        return None, exc.reason
    except TimeoutError:
        return None, f"extraction took longer than {extract_timeout:g}s"


def _fetched(status: str, fetched: FetchResult, new_entries: int = 0) -> PollOutcome:
    return PollOutcome(
        status,
        new_entries=new_entries,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        redirect=fetched.permanent_redirect,
    )


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
