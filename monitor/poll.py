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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from monitor import __version__, extract, gnews, page_retry, poll_read, stories, urls
from monitor.errors import ExtractError, FeedParseError, FetchError, WorkerCrashed
from monitor.fetch import PAGE_ACCEPT, Fetcher
from monitor.health import HealthChange
from monitor.health_watch import HealthWatch
from monitor.match import Matcher
from monitor.match.language import detect_language
from monitor.models import (
    Article,
    Entry,
    FeedJob,
    FetchResult,
    Finding,
    Fingerprint,
    Page,
    ParsedFeed,
    PendingPage,
    PollResult,
    StoredEntry,
)
from monitor.notify.items import site_name
from monitor.page_retry import PageFailure
from monitor.poll_plan import (
    PollOutcome,
    PollTiming,
    document_digest,
    plan,
    repeated_failure,
    request_validators,
)
from monitor.poll_read import MAX_TITLE, capped_title
from monitor.store import PageRetries, Store
from monitor.store.polls import PollStart, PollWrite
from monitor.workers import WorkerPool

log = logging.getLogger("monitor.poll")

__all__ = ["MAX_TITLE", "Pipeline", "PollLimits", "capped_title", "fetch_page", "fetch_page_outcome"]


@dataclass(frozen=True, slots=True)
class PollLimits:
    max_feed_size: int
    max_page_size: int
    extract_timeout: float
    notify_max_age: float
    max_backoff: float
    pages_in_flight: int = 20  # pages downloaded or being extracted at once, across all feeds


Extractor = Callable[[str | bytes, str], Page]  # (markup, url) -> Page, run in a worker process
RETRY_CLAIM = 600.0  # seconds a retry pass holds the pending pages it fetches
FETCHED_SCHEMES = ("http://", "https://", "file://")  # an entry's link whose page is fetched (full text)
# An entry made an article: the article, its page's next fetch when this one failed for a passing reason, and
# the response its text came from.
ArticleBuilt = tuple[Article, PendingPage | None, FetchResult | None]


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """An article page: its extracted text, or why there is none and whether trying again may help."""

    page: Page | None
    failure: PageFailure | None = None
    response: FetchResult | None = None  # what the server sent, when it sent something: evidence of a hit
    # The article's language, worked out beside the extraction when the entry's title and summary were given.
    language: str | None = None
    language_read: bool = False


@dataclass(frozen=True, slots=True)
class RetryReport:
    """What a pass over the due page fetches did."""

    fetched: int = 0  # pages that gave their text this time
    hits: int = 0  # hits the new text added
    pending: int = 0  # failed again, tried later
    given_up: tuple[str, ...] = ()  # "url: reason" of the pages no longer tried


@dataclass(slots=True)
class Pipeline:
    fetcher: Fetcher
    workers: WorkerPool
    store: Store
    matcher: Matcher
    routes: Mapping[str, Sequence[str]]  # watchlist -> notifier names
    limits: PollLimits
    rng: random.Random = field(default_factory=random.Random)
    extractor: Extractor = extract.extract_page
    # Where Google News links that must be followed are requested (tests point it at a local server).
    google_news_base: str = "https://news.google.com"
    # Bounds the pages held in memory: without it every new entry's page is downloaded at once and waits
    # for a worker, which in a busy cycle means hundreds of pages in the main process.
    page_slots: asyncio.Semaphore = field(init=False)
    health: HealthWatch | None = None  # keeps each feed's health samples and tells when its health changes
    jobs: Mapping[str, FeedJob] = field(default_factory=dict)  # by name: how to fetch a feed's pages again
    # Several daemons on PostgreSQL: whether this daemon still holds the feed's lease. A poll whose lease was
    # lost stores nothing (status "lease-lost"): the feed's new holder polls it.
    lease_check: Callable[[str], bool] | None = None
    # By feed, the entry digests of its last read that was stored (``ParsedFeed.digests``): its next read does
    # not tell again the language and fingerprint of the entries it finds unchanged.
    told: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.page_slots = asyncio.Semaphore(self.limits.pages_in_flight)

    async def poll_many(self, jobs: Sequence[FeedJob], now: datetime) -> list[PollResult]:
        """Poll feeds concurrently, a bounded number at a time: enough to keep every connection busy, few
        enough that fetched feeds do not pile up in memory while they wait for a parser. The feeds' states and
        health samples are read once for the cycle, in one query."""
        slots = asyncio.Semaphore(self.limits.pages_in_flight * 2)
        try:
            starts = self.store.poll_starts(job.name for job in jobs)
        except Exception:
            log.exception("the cycle's feed states could not be read; each poll reads its own")
            starts = {}

        async def poll_in_slot(job: FeedJob) -> PollResult:
            async with slots:
                return await self.poll_safely(job, now, starts.get(job.name))

        return list(await asyncio.gather(*(poll_in_slot(job) for job in jobs)))

    async def poll_safely(self, job: FeedJob, now: datetime, start: PollStart | None = None) -> PollResult:
        """``poll``, except that a bug or a database error in one feed's poll is logged, recorded as that feed's
        failure (so it backs off like any other) and returned as its error, instead of ending the cycle for
        every feed. Nothing of the failed poll itself is stored: its write is one transaction."""
        started = time.monotonic()
        try:
            return await self.poll(job, now, start)
        except Exception as exc:
            log.exception("feed=%s poll crashed", job.name)
            reason = f"internal error: {type(exc).__name__}: {exc}"
            try:
                fresh = self.store.poll_start(job.name)
                return await self._finish(job, fresh, PollOutcome.failed(reason), now, started)
            except Exception:
                log.exception("feed=%s the crash could not be recorded either", job.name)
                return PollResult(job.name, "error", error=reason, elapsed=time.monotonic() - started)

    async def poll(self, job: FeedJob, now: datetime, start: PollStart | None = None) -> PollResult:
        """One feed's poll. ``start``: its state and health samples when the cycle read them already. Everything
        the poll stores is written in one transaction at its end (``Store.save_poll``)."""
        started = time.monotonic()
        start = start or self.store.poll_start(job.name)
        state = start.state
        reader = _reader(job)
        etag, last_modified = request_validators(state, reader)
        try:
            fetched = await self.fetcher.fetch(
                state.fetch_url,
                max_size=self.limits.max_feed_size,
                etag=etag,
                last_modified=last_modified,
                user_agent=job.user_agent,
                headers=job.headers_for(state.fetch_url),
            )
        except FetchError as exc:
            failed = PollOutcome.failed(exc.reason, retry_after=exc.retry_after, gone=exc.permanent)
            return await self._finish(job, start, failed, now, started)
        digest = None
        if state.failed_digest is not None and not fetched.not_modified:
            digest = document_digest(fetched.body, reader)
        again = repeated_failure(
            state,
            reader,
            not_modified=fetched.not_modified,
            digest=digest,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
        )
        if again is not None:  # the document that failed to parse, unchanged: not parsed again
            return await self._finish(job, start, again, now, started)
        if fetched.not_modified:
            return await self._finish(job, start, _fetched("not-modified", fetched), now, started)
        page_text = None
        try:
            if job.page_mode is None:
                details = poll_read.entry_details_wanted(job.fulltext)
                parsed = await self._parse(fetched, details, self.told.get(job.name, b"") if details else b"")
            else:
                parsed, page_text = self._read_page(job, fetched, now)
        except FeedParseError as exc:
            digest = digest or document_digest(fetched.body, reader)
            failed = PollOutcome.unparseable(exc.reason, digest, fetched.etag, fetched.last_modified)
            return await self._finish(job, start, failed, now, started)
        except (
            TimeoutError,
            WorkerCrashed,
        ) as exc:  # not the document's fault for sure: parsed again next time
            return await self._finish(job, start, PollOutcome.failed(_parse_failure(exc)), now, started)

        new_entries, changed = self._sort_entries(parsed.entries, now)
        languages, fingerprints = entry_languages(parsed), entry_fingerprints(parsed)
        built = await self._articles(job, [*new_entries, *changed], now, parsed.title, languages)
        articles, updates = built[: len(new_entries)], built[len(new_entries) :]
        result = await self._finish(
            job,
            start,
            _fetched("ok", fetched, len(new_entries)),
            now,
            started,
            findings=[
                self._finding(article, now, retry, page, fingerprints) for article, retry, page in articles
            ],
            updates=[self._update_finding(article, page, now) for article, _, page in updates],
            texts=[a.text for a, _, _ in articles if a.text or a.fetch_error],
            page_text=page_text,
        )
        page_errors = tuple(
            f"{a.url}: {a.fetch_error}" + ("; fetching it again later" if retry else "")
            for a, retry, _ in articles
            if a.fetch_error
        )
        if result.status == "lease-lost":
            return result
        if parsed.digests:
            self.told[job.name] = parsed.digests
        return dataclasses.replace(
            result, warning=parsed.warning, page_errors=page_errors, updated_entries=len(changed)
        )

    async def _finish(
        self,
        job: FeedJob,
        start: PollStart,
        outcome: PollOutcome,
        now: datetime,
        started: float,
        *,
        findings: Sequence[Finding] = (),
        updates: Sequence[Finding] = (),
        texts: Sequence[str] = (),
        page_text: str | None = None,
    ) -> PollResult:
        """Decide what the outcome does to the feed's schedule and health, store it with the poll's articles in
        one transaction (nothing, when this daemon lost the feed's lease), and say it as the poll's result."""
        if self._lease_lost(job):
            return PollResult(job.name, "lease-lost", elapsed=time.monotonic() - started)
        change = plan(start.state, outcome, now, PollTiming(job.interval, self.limits.max_backoff), self.rng)
        step = None
        if self.health is not None:
            step = self.health.step(
                job.name, start.health, outcome.new_entries, texts, change.consecutive_failures, now
            )
        write = PollWrite(change, findings, updates, step.keep if step else None, page_text)
        held = None if self.lease_check is None else functools.partial(self.lease_check, job.name)
        saved = await self.store.save_poll_apart(
            write, self.routes, now=now, stories=stories, still_held=held
        )
        if saved is None:
            return PollResult(job.name, "lease-lost", elapsed=time.monotonic() - started)
        if change.moved_to:
            log.warning("feed=%s moved permanently to %s; polling the new address", job.name, change.moved_to)
        for finding in findings:
            if finding.article.key in saved.hits:  # else another poll stored it first
                _log_hits(finding)
        for finding, new_hits in zip(updates, saved.update_hits, strict=True):
            article = finding.article
            log.info("updated feed=%s url=%s new_hits=%d", article.feed, article.url, len(new_hits))
        if step is not None and step.change is not None:
            await self._tell(job, step.change)
        return PollResult(
            job.name,
            change.status,
            new_entries=outcome.new_entries,
            hits=sum(map(len, saved.hits.values())) + sum(map(len, saved.update_hits)),
            error=change.error,
            elapsed=time.monotonic() - started,
            next_poll=change.next_poll,
            consecutive_failures=change.consecutive_failures,
        )

    async def _tell(self, job: FeedJob, change: HealthChange) -> None:
        assert self.health is not None
        try:
            await self.health.tell(change)
        except Exception:
            log.exception("feed=%s its health change could not be told", job.name)

    def _lease_lost(self, job: FeedJob) -> bool:
        return self.lease_check is not None and not self.lease_check(job.name)

    def _read_page(self, job: FeedJob, fetched: FetchResult, now: datetime) -> tuple[ParsedFeed, str | None]:
        """A [[page]] source as a feed: its links, or the sentences its text gained since the last poll (with
        the text now, which the poll stores)."""
        # Here, not at the top: lxml (7.5 MB) stays out of a daemon that polls no [[page]] source.
        from monitor import page_source

        if job.page_mode == "links":
            return page_source.page_links(fetched.body, fetched.final_url, job.selector), None
        text = page_source.page_text(fetched.body, fetched.final_url, job.selector)
        before = self.store.health.page_text(job.name)
        added = page_source.added_sentences(before, text) if before is not None else []
        title = job.name
        entries = (page_source.text_change_entry(job.url, title, added, now),) if added else ()
        return ParsedFeed(title, entries), text

    async def _parse(self, fetched: FetchResult, entry_details: bool = True, told: bytes = b"") -> ParsedFeed:
        """The feed read in a worker process, every feed whatever its size: the main process is the cycle's
        bottleneck, and a worker round trip costs it less than even the fast path and the languages of a
        small feed's entries (docs/benchmarks.md, "Pipeline: what was measured"). ``told``: as
        ``poll_read.read_feed`` takes it."""
        headers = dict(fetched.headers)
        headers.pop("content-encoding", None)
        parsed: ParsedFeed = await self.workers.run(
            poll_read.read_feed,
            fetched.body,
            fetched.final_url,
            headers,
            entry_details,
            told,
            timeout=self.limits.extract_timeout,
        )
        return parsed

    def _sort_entries(self, entries: Sequence[Entry], now: datetime) -> tuple[list[Entry], list[Entry]]:
        """The entries not stored yet, and the stored ones that came back changed and are recent enough to
        alert on (each once a poll), from one read of the store."""
        unique = {entry.key: entry for entry in reversed(entries)}  # the first occurrence wins
        unseen, stored = self.store.known_entries(unique)
        new = [entry for key, entry in reversed(unique.items()) if key in unseen]
        oldest = now - timedelta(seconds=self.limits.notify_max_age)
        first = {entry.key: entry for entry in reversed(entries) if entry.key not in unseen}
        changed = [
            entry for key, entry in first.items() if key in stored and update_due(entry, stored[key], oldest)
        ]
        return new, changed

    def _update_finding(self, article: Article, page: FetchResult | None, now: datetime) -> Finding:
        """A changed article matched again, to be stored as its new version."""
        oldest_alerted = now - timedelta(seconds=self.limits.notify_max_age)
        matches = tuple(self.matcher.match(article.fields()))
        return Finding(article, matches, article.published >= oldest_alerted, page=page)

    async def _articles(
        self,
        job: FeedJob,
        entries: Sequence[Entry],
        now: datetime,
        feed_title: str,
        languages: Mapping[str, str | None],
    ) -> list[ArticleBuilt]:
        """``_article`` of each entry, in their order. An entry that needs nothing waited for (no page to fetch,
        no Google News link to follow, its language told by the feed's read) is made here, without a task of its
        own: most entries of a feed without full text. The others are made concurrently."""
        built: list[ArticleBuilt | None] = [
            self._article_at_hand(job, entry, now, feed_title, languages) for entry in entries
        ]
        waiting = [index for index, article in enumerate(built) if article is None]
        if waiting:
            made = await asyncio.gather(
                *(self._article(job, entries[index], now, feed_title, languages) for index in waiting)
            )
            for index, article in zip(waiting, made, strict=True):
                built[index] = article
        return [article for article in built if article is not None]

    def _article_at_hand(
        self,
        job: FeedJob,
        entry: Entry,
        now: datetime,
        feed_title: str,
        languages: Mapping[str, str | None],
    ) -> ArticleBuilt | None:
        """``_article`` of an entry when making it waits for nothing, else None."""
        link = entry.url
        if job.fulltext and link and link.startswith(FETCHED_SCHEMES):
            return None
        if entry.key not in languages or (link and gnews.is_google_news(link)):
            return None
        return self._article_from(job, entry, now, feed_title, link, None, None, PageOutcome(None), languages)

    async def _article(
        self,
        job: FeedJob,
        entry: Entry,
        now: datetime,
        feed_title: str = "",
        languages: Mapping[str, str | None] | None = None,
    ) -> ArticleBuilt:
        """The entry as an article with its page's text (a Google News link resolved to the publisher's first),
        the page's next fetch if this one failed for a passing reason, and the response its text came from (kept
        as evidence when it hits). ``languages``: each entry's language as the feed's parse found it."""
        link, via, via_error = entry.url, None, None
        if entry.url and gnews.is_google_news(entry.url):
            link, via_error = await self.publisher_url(entry.url, linked_from=job.url)
            via = entry.url if link != entry.url else None
        outcome = PageOutcome(None)
        if job.fulltext and link and link.startswith(FETCHED_SCHEMES):
            outcome = await self.fetch_page_outcome(
                link,
                linked_from=job.url,
                user_agent=job.user_agent,
                headers=job.headers_for(link),
                lead=(entry.title, entry.summary),
            )
        language = None
        if not outcome.language_read and outcome.page is None and not (languages and entry.key in languages):
            # the language of the entry alone, not told by the feed's read (a full-text feed)
            language = await self._entry_language(entry)
        return self._article_from(
            job, entry, now, feed_title, link, via, via_error, outcome, languages, language
        )

    def _article_from(
        self,
        job: FeedJob,
        entry: Entry,
        now: datetime,
        feed_title: str,
        link: str | None,
        via: str | None,
        via_error: str | None,
        outcome: PageOutcome,
        languages: Mapping[str, str | None] | None,
        entry_language: str | None = None,
    ) -> ArticleBuilt:
        """The article of ``_article`` once its link is followed, its page fetched (``outcome``) and, when neither
        the page nor the feed's read told it, the language of the entry alone worked out (``entry_language``)."""
        page, failure = outcome.page, outcome.failure
        base_key = urls.canonical_url(link) if via and link else entry.key
        key = urls.article_key(base_key, link, page.canonical if page else None)
        title, summary = capped_title(
            entry.title or (page.title if page and page.title else ""), entry.summary
        )
        text = page.text if page else ""
        if outcome.language_read:
            language = outcome.language
        elif page is None and languages is not None and entry.key in languages:
            language = languages[entry.key]
        elif page is None:
            language = entry_language
        else:
            language = detect_language(title, summary, text)
        article = Article(
            feed=job.name,
            key=key,
            aliases=tuple(k for k in dict.fromkeys((entry.key, base_key)) if k != key),
            via=via,
            via_error=via_error,
            url=link,
            guid=entry.guid,
            title=title,
            summary=summary,
            text=text,
            published=min(entry.published or now, now),  # a date in the future is the fetch time
            first_seen=now,
            author=entry.author or (page.author if page else None),
            sitename=site_name(page.sitename if page else None, feed_title),  # a name, never a bare host
            fetch_error=failure.reason if failure else None,
            language=language,
            updated=entry.updated,
        )
        if failure is None or link is None:
            return article, None, outcome.response
        first = PendingPage(key, job.name, link, job.url, 0, 0, now, now, failure.reason)
        return article, self._after_failure(first, failure, now), outcome.response

    async def _entry_language(self, entry: Entry) -> str | None:
        """``poll_read.entry_language`` in a worker (the main process does not load the language model), or
        here when the worker fails."""
        try:
            language: str | None = await self.workers.run(
                poll_read.entry_language, entry, timeout=self.limits.extract_timeout
            )
        except (TimeoutError, WorkerCrashed):
            language = poll_read.entry_language(entry)
        return language

    def _after_failure(self, pending: PendingPage, failure: PageFailure, now: datetime) -> PendingPage | None:
        """The pending fetch after one more failure, or None when the page is not to be tried again."""
        failures, crashes = pending.failures + 1, pending.crashes + failure.crashed
        at = page_retry.next_attempt(
            failure,
            failures=failures,
            crashes=crashes,
            first_failed=pending.first_failed,
            now=now,
            max_age=self.limits.notify_max_age,
        )
        if at is None:
            return None
        return replace(
            pending, failures=failures, crashes=crashes, next_attempt=at, last_error=failure.reason
        )

    async def fetch_page(
        self,
        url: str,
        linked_from: str | None = None,
        user_agent: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Page | None, str | None]:
        """The extracted page, or why there is none (the entry is then matched on its title and summary)."""
        outcome = await self.fetch_page_outcome(url, linked_from, user_agent, headers)
        return outcome.page, outcome.failure.reason if outcome.failure else None

    async def fetch_page_outcome(
        self,
        url: str,
        linked_from: str | None = None,
        user_agent: str | None = None,
        headers: Mapping[str, str] | None = None,
        lead: tuple[str, str] | None = None,
    ) -> PageOutcome:
        async with self.page_slots:
            return await fetch_page_outcome(
                self.fetcher,
                self.workers,
                url,
                max_size=self.limits.max_page_size,
                extract_timeout=self.limits.extract_timeout,
                linked_from=linked_from,
                user_agent=user_agent,
                headers=headers,
                extractor=self.extractor,
                lead=lead,
            )

    async def publisher_url(self, link: str, linked_from: str | None = None) -> tuple[str, str | None]:
        """The publisher's URL behind a Google News link, or the link itself with the reason it could not be
        resolved: decoded offline when the id carries it, else by following the link's redirect with the
        fetcher (same size, time and private-address rules as any page)."""
        decoded, reason = gnews.decode(link)
        if decoded:
            return decoded, None
        if not gnews.needs_request(reason):
            log.warning("google news link %s not resolved: %s", link, reason)
            return link, reason
        parts = urlsplit(link)
        asked = self.google_news_base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            fetched = await self.fetcher.fetch(
                asked, max_size=self.limits.max_page_size, accept=PAGE_ACCEPT, linked_from=linked_from
            )
        except FetchError as exc:
            reason = f"following the Google News link failed: {exc.reason}"
        else:
            final = urlsplit(fetched.final_url)
            still_google = final.netloc == urlsplit(asked).netloc and final.path.startswith(
                gnews.PATH_PREFIXES
            )
            if fetched.final_url != asked and not still_google:
                return fetched.final_url, None
            reason = "Google News did not redirect to the publisher"
        log.warning("google news link %s not resolved: %s", link, reason)
        return link, reason

    async def _fetch_again(self, pending: PendingPage) -> PageOutcome:
        """A pending page fetched as its feed's pages are: with the feed's user agent and its own headers."""
        job = self.jobs.get(pending.feed)
        if job is None:
            return await self.fetch_page_outcome(pending.url, pending.linked_from)
        return await self.fetch_page_outcome(
            pending.url, pending.linked_from, job.user_agent, job.headers_for(pending.url)
        )

    def _finding(
        self,
        article: Article,
        now: datetime,
        retry: PendingPage | None = None,
        page: FetchResult | None = None,
        fingerprints: Mapping[str, bytes | None] | None = None,
    ) -> Finding:
        """The article matched and fingerprinted. ``fingerprints``: those the feed's parse worked out
        (``entry_fingerprints``)."""
        oldest_alerted = now - timedelta(seconds=self.limits.notify_max_age)
        matches, folded = self.matcher.match_folded(article.fields())
        fingerprint = article_fingerprint(article, fingerprints or {})
        alert = article.published >= oldest_alerted
        return Finding(article, tuple(matches), alert, retry, fingerprint, page, folded)

    async def retry_pages(self, now: datetime) -> RetryReport:
        """Fetch again the article pages that are due; match an article again when its text arrives, and
        store (and so alert) the hits that adds."""
        pages = PageRetries(self.store.engine, self.store.index)
        due = pages.claim_due(now, now + timedelta(seconds=RETRY_CLAIM))
        outcomes = await asyncio.gather(*(self._fetch_again(pending) for pending, _ in due))
        fetched = hits = pending_count = 0
        given_up: list[str] = []
        for (pending, article), outcome in zip(due, outcomes, strict=True):
            if outcome.page is not None:
                finding = self._finding(_with_page(article, outcome.page), now, page=outcome.response)
                new_hits = pages.complete(finding, self.routes, now=now, stories=stories)
                _log_hits(finding, set(new_hits))
                fetched, hits = fetched + 1, hits + len(new_hits)
                log.info(
                    "page fetched on retry %d url=%s hits=%d", pending.failures, pending.url, len(new_hits)
                )
                continue
            assert outcome.failure is not None
            later = self._after_failure(pending, outcome.failure, now)
            if later is None:
                pages.give_up(pending.article_key, outcome.failure.reason)
                given_up.append(f"{pending.url}: {outcome.failure.reason}")
                log.warning(
                    "page given up after %d tries url=%s error=%s",
                    pending.failures + 1,
                    pending.url,
                    outcome.failure.reason,
                )
            else:
                pages.reschedule(later)
                pending_count += 1
        return RetryReport(fetched, hits, pending_count, tuple(given_up))


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
    outcome = await fetch_page_outcome(
        fetcher,
        workers,
        url,
        max_size=max_size,
        extract_timeout=extract_timeout,
        linked_from=linked_from,
        user_agent=user_agent,
        headers=headers,
    )
    return outcome.page, outcome.failure.reason if outcome.failure else None


async def fetch_page_outcome(
    fetcher: Fetcher,
    workers: WorkerPool,
    url: str,
    *,
    max_size: int,
    extract_timeout: float,
    linked_from: str | None = None,
    user_agent: str | None = None,
    headers: Mapping[str, str] | None = None,
    extractor: Extractor = extract.extract_page,
    lead: tuple[str, str] | None = None,
) -> PageOutcome:
    """``fetch_page``, saying also whether a failure may pass. Every failure is this page's, never its feed's:
    a worker that dies or runs out of time on a page counts as a crash, which is retried only a few times.
    ``lead``: the entry's title and summary, when the worker is to tell the article's language as well."""
    fetched: FetchResult | None = None
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
            return PageOutcome(None, PageFailure(f"not an HTML page ({kind})", transient=False), fetched)
        markup = extract.page_markup(fetched)
        if lead is None:
            page = await workers.run(extractor, markup, fetched.final_url, timeout=extract_timeout)
            return PageOutcome(page, response=fetched)
        page, language = await workers.run(
            poll_read.extract_reading, extractor, markup, fetched.final_url, *lead, timeout=extract_timeout
        )
        return PageOutcome(page, response=fetched, language=language, language_read=True)
    except FetchError as exc:
        return PageOutcome(None, PageFailure(exc.reason, transient=exc.transient))
    except ExtractError as exc:
        return PageOutcome(None, PageFailure(exc.reason, transient=False), fetched)
    except TimeoutError:
        reason = f"extraction took longer than {extract_timeout:g}s"
        return PageOutcome(None, PageFailure(reason, transient=True, crashed=True), fetched)
    except (WorkerCrashed, MemoryError) as exc:
        return PageOutcome(
            None, PageFailure(f"extraction crashed: {exc}", transient=True, crashed=True), fetched
        )


def entry_changed(entry: Entry, stored: StoredEntry) -> bool:
    """Whether a stored entry came back changed: a new title or summary, or another updated date. (A stored
    title may come from the page when the feed gave none: an entry without a title does not count as changed.)"""
    if entry.title and entry.title != stored.title:
        return True
    if entry.summary != stored.summary:
        return True
    return entry.updated is not None and entry.updated != stored.updated


def update_due(entry: Entry, stored: StoredEntry, oldest: datetime) -> bool:
    """Whether a changed entry is fetched and matched again: not when it is older than ``oldest`` (the
    notify_max_age bound), as its hits would not alert."""
    return entry_changed(entry, stored) and (entry.published or stored.published) >= oldest


def _with_page(article: Article, page: Page) -> Article:
    return replace(
        article,
        title=article.title or page.title or "",
        text=page.text,
        author=article.author or page.author,
        sitename=page.sitename,
        fetch_error=None,
    )


def _log_hits(finding: Finding, only: set[str] | None = None) -> None:
    for match in finding.matches:
        if only is not None and match.watchlist not in only:
            continue
        log.info(
            "hit watchlist=%s feed=%s matched=%s url=%s%s",
            match.watchlist,
            finding.article.feed,
            ", ".join(match.matched),
            finding.article.url,
            "" if finding.alert else " (too old to alert)",
        )


def entry_languages(parsed: ParsedFeed) -> dict[str, str | None]:
    """Each entry key's language as the parse found it (the first entry of a key, as everywhere; none for an entry
    left untold: ``poll_read.read_feed``), or nothing."""
    if parsed.languages is None:
        return {}
    found: dict[str, str | None] = {}
    seen: set[str] = set()
    for entry, language in zip(parsed.entries, parsed.languages, strict=True):
        if entry.key not in seen:
            seen.add(entry.key)
            if language != poll_read.UNTOLD_LANGUAGE:
                found[entry.key] = language
    return found


def entry_fingerprints(parsed: ParsedFeed) -> dict[str, bytes | None]:
    """The packed story fingerprints the parse found, by the text each is of (an entry's capped title and
    summary), or nothing. Keyed by the text, not the entry: an article takes one only when it is clustered on that
    very text, whatever its page, its title's source or its key."""
    if parsed.fingerprints is None:
        return {}
    texts = map(poll_read.entry_story_text, parsed.entries)
    return {
        text: packed
        for text, packed in zip(texts, parsed.fingerprints, strict=True)
        if packed != poll_read.UNTOLD_FINGERPRINT
    }


def article_fingerprint(article: Article, known: Mapping[str, bytes | None]) -> Fingerprint | None:
    """The article's story fingerprint: the one in ``known`` (packed, by the text it is of) when the article is
    clustered on that very text, else worked out here."""
    text = stories.clustering_text(article.title, article.summary, article.text)
    if text not in known:
        return stories.fingerprint(text)
    packed = known[text]
    return None if packed is None else stories.unpack_fingerprint(packed)


def _reader(job: FeedJob) -> str:
    """How a source's document is read, for its digest: the program's version, and a page's mode and selector."""
    return f"{__version__} {job.page_mode or 'feed'} {job.selector or ''}"


def _parse_failure(exc: TimeoutError | WorkerCrashed) -> str:
    if isinstance(exc, WorkerCrashed):
        return f"feed parser crashed: {exc}"
    return "feed took too long to parse"


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
    if result.updated_entries:
        text += f" updated={result.updated_entries}"
    return text
