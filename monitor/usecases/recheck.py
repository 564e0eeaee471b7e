"""Rechecks of the pages behind hits: when one is due, and whether a new fetch changed the page materially or
removed it. Pure functions of values and ``now``; fetching and storing the new version is the caller's.

``run_rechecks`` applies them: it fetches what is due, stores each recheck as a capture (the body and text
only when the page changed or went) and returns what to alert.

A change is material when a sentence of some length was added or dropped: a changed date line, a counter or
a short advertisement slot does not count. A page is removed on 404 or 410, or when it now redirects to the
site's home page.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from monitor import extract
from monitor.config import NotifierSettings
from monitor.errors import ExtractError, FetchError
from monitor.fetch import PAGE_ACCEPT, Fetcher
from monitor.models import FetchResult
from monitor.notify import Message, log_message, safety, send_message
from monitor.notify.channels import CHANNELS, Channel, clip, size
from monitor.notify.render import MAX_SUBJECT_CHARS, Body
from monitor.store.archive import Archive, RecheckTarget
from monitor.store.evidence import recheck_row
from monitor.workers import WorkerCrashed, WorkerPool

log = logging.getLogger("monitor.recheck")

DEFAULT_SCHEDULE = (3600.0, 86400.0, 7 * 86400.0)
MIN_SENTENCE_WORDS = 6  # shorter lines (dates, bylines, "Advertisement") are not material
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_WORD = re.compile(r"[^\W_]+")
# Words of date and time lines ("Updated 12:04 on 30 November"), which change without the story changing.
DATE_WORDS = frozenset(
    [
        "updated",
        "update",
        "published",
        "posted",
        "modified",
        "last",
        "am",
        "pm",
        "gmt",
        "utc",
        "on",
        "at",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)


def next_recheck(first_fetched: datetime, done: int, schedule: Sequence[float]) -> datetime | None:
    """When the next recheck of a page first fetched at ``first_fetched`` is due, after ``done`` rechecks;
    None when the schedule is spent (or empty: rechecks are off)."""
    if done >= len(schedule):
        return None
    return first_fetched + timedelta(seconds=schedule[done])


def recheck_due(first_fetched: datetime, done: int, schedule: Sequence[float], now: datetime) -> bool:
    due = next_recheck(first_fetched, done, schedule)
    return due is not None and due <= now


@dataclass(frozen=True, slots=True)
class PageChange:
    kind: str  # unchanged, changed, removed
    added: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


def compare(
    old_text: str, status: int, final_url: str, new_text: str | None, *, asked_url: str
) -> PageChange:
    """What a new fetch of a page says about it, given the text of the last version."""
    if status in (404, 410) or _is_home_page(final_url, asked_url):
        return PageChange("removed")
    if new_text is None:
        return PageChange("unchanged")  # an error page or an unreadable body says nothing about the story
    old, new = _material_sentences(old_text), _material_sentences(new_text)
    old_keys, new_keys = set(old), set(new)
    added = tuple(sentence for key, sentence in new.items() if key not in old_keys)
    dropped = tuple(sentence for key, sentence in old.items() if key not in new_keys)
    return PageChange("changed", added, dropped) if added or dropped else PageChange("unchanged")


def _material_sentences(text: str) -> dict[str, str]:
    """Sentences long enough to matter, keyed by their lower-cased words less numbers and date words (so that
    an updated count, time or date line alone is not a change)."""
    sentences: dict[str, str] = {}
    for sentence in _SENTENCE_END.split(text):
        words = [w for w in _WORD.findall(sentence.casefold()) if not w.isdigit() and w not in DATE_WORDS]
        if len(words) < MIN_SENTENCE_WORDS:
            continue
        sentences.setdefault(" ".join(words), " ".join(sentence.split()))
    return sentences


def _is_home_page(final_url: str, asked_url: str) -> bool:
    final, asked = urlsplit(final_url), urlsplit(asked_url)
    moved = (final.netloc, final.path) != (asked.netloc, asked.path)
    return moved and final.path in ("", "/") and not final.query


# --- applying them -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refetched:
    """A new fetch of a page: its status, the response (None when there was none) and the extracted text."""

    status: int
    page: FetchResult | None
    text: str | None


PageFetcher = Callable[[str], Awaitable[Refetched]]


@dataclass(frozen=True, slots=True)
class RecheckAlert:
    """A page behind hits that changed or went: what its watchlists' notifiers are told."""

    target: RecheckTarget
    change: PageChange

    def message(self) -> Message:
        """The alert in every service's markup, as hits' alerts are (see ``monitor.notify.channels``)."""
        subject = clip(
            f"{', '.join(self.target.watchlists)}: article {self.change.kind}: {self.target.title}",
            MAX_SUBJECT_CHARS,
        )
        bodies = {name: _body(channel, subject, self) for name, channel in CHANNELS.items()}
        page = _html_page(subject, self)
        bodies["email"] = Body(subject, page, None)
        return Message(title=subject, text=bodies["text"].body, html=page, bodies=bodies)

    def lines(self) -> list[str]:
        """What happened to the page, one line each: removal, then added (+) and dropped (-) sentences."""
        lines = []
        if self.change.kind == "removed":
            lines.append("The page is gone (removed, or it now leads to the site's home page).")
        lines += [f"+ {sentence}" for sentence in self.change.added]
        lines += [f"- {sentence}" for sentence in self.change.dropped]
        return lines


def _body(channel: Channel, subject: str, alert: RecheckAlert) -> Body:
    dialect = channel.dialect
    title = dialect.escape(alert.target.title or "(untitled)")
    link = safety.safe_link(alert.target.url)
    head = [] if channel.shows_title else [dialect.strong(dialect.escape(subject))]
    if link and dialect.inline_links:
        lines = [dialect.strong(dialect.link(link, (dialect.label or dialect.escape)(alert.target.title)))]
    else:
        lines = [dialect.strong(title), *([link] if link else [])]
    lines += [dialect.escape(line) for line in alert.lines()]
    text = "\n\n".join([*head, dialect.newline.join(lines)])
    if size(text) > channel.limit:
        text = text.encode("utf-8")[: channel.limit - 4].decode("utf-8", "ignore") + "\n…"
    title_line = clip(dialect.escape(subject), channel.title_limit) if channel.shows_title else ""
    return Body(title_line, text, channel.body_format)


def _html_page(subject: str, alert: RecheckAlert) -> str:
    link = safety.safe_link(alert.target.url)
    title = html.escape(safety.one_line(alert.target.title or "(untitled)"))
    heading = f'<a href="{html.escape(link, quote=True)}">{title}</a>' if link else title
    items = "".join(f"<li>{html.escape(safety.one_line(line))}</li>" for line in alert.lines())
    return (
        f"<html><head><title>{html.escape(subject)}</title></head><body>"
        f"<h3>{heading}</h3><ul>{items}</ul></body></html>"
    )


async def run_rechecks(
    archive: Archive, fetch: PageFetcher, schedule: Sequence[float], now: datetime
) -> list[RecheckAlert]:
    """Fetch every page behind a hit whose recheck is due, store what was found, and return the changes and
    removals to alert."""
    if not schedule:
        return []
    alerts: list[RecheckAlert] = []
    since = now - timedelta(seconds=max(schedule)) - timedelta(days=1)
    for target in archive.recheck_targets(since):
        if not recheck_due(target.first_fetched, target.rechecks, schedule, now):
            continue
        refetched = await fetch(target.url)
        final_url = refetched.page.final_url if refetched.page else target.url
        change = compare(target.last_text, refetched.status, final_url, refetched.text, asked_url=target.url)
        archive.add_recheck(
            recheck_row(
                target.article_id,
                target.url,
                refetched.page,
                refetched.status,
                refetched.text,
                change.kind,
                now,
            )
        )
        if change.kind != "unchanged":
            alerts.append(RecheckAlert(target, change))
    return alerts


def page_fetcher(
    fetcher: Fetcher, workers: WorkerPool, *, max_size: int, extract_timeout: float
) -> PageFetcher:
    """Fetch and extract a page as the pipeline does; a refusal (404, 410) comes back as its status."""

    async def fetch(url: str) -> Refetched:
        try:
            response = await fetcher.fetch(url, max_size=max_size, accept=PAGE_ACCEPT)
        except FetchError as exc:
            return Refetched(exc.status or 0, None, None)
        if not extract.is_html(response):
            return Refetched(response.status, response, None)
        markup = extract.page_markup(response)
        try:
            page = await workers.run(
                extract.extract_page, markup, response.final_url, timeout=extract_timeout
            )
        except (ExtractError, TimeoutError, WorkerCrashed):
            return Refetched(response.status, response, None)
        return Refetched(response.status, response, page.text)

    return fetch


async def send_alerts(
    alerts: Sequence[RecheckAlert],
    notifiers: Mapping[str, NotifierSettings],
    routes: Mapping[str, Sequence[str]],
    *,
    timeout: float,
) -> None:
    """Tell each notifier of the hits' watchlists, once per page; failures are logged (not retried)."""
    for alert in alerts:
        message = alert.message()
        names = dict.fromkeys(name for w in alert.target.watchlists for name in routes.get(w, ()))
        for name in names:
            notifier = notifiers.get(name)
            if notifier is None:
                continue
            if notifier.logs_only:
                log_message(log, name, message)
                continue
            for result in await send_message(notifier.urls, message, timeout=timeout):
                if not result.ok:
                    log.warning("recheck alert to %s failed: %s: %s", name, result.target, result.error)
