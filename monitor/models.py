"""The plain immutable values that flow through the pipeline. No I/O and no third-party imports here."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

# The fields of an article that unscoped terms look at (scoped ones may also name url or feed).
TEXT_FIELDS = ("title", "summary", "body")


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one HTTP (or file://) request gave back."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int  # 200, 304, ...; 200 for file://
    body: bytes  # empty for 304
    headers: Mapping[str, str]  # lower-case names
    etag: str | None = None
    last_modified: str | None = None
    permanent_redirect: str | None = None  # the new URL when a 301/308 was followed
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def text_charset(self) -> str | None:
        """The charset named by the Content-Type header, if any."""
        content_type = self.headers.get("content-type", "")
        for part in content_type.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a parsed feed."""

    key: str  # canonical URL, or the guid when there is no link
    url: str | None
    guid: str | None
    title: str
    summary: str  # plain text
    published: datetime | None  # UTC; None when the feed gives no date
    author: str | None = None
    updated: datetime | None = None  # UTC; the feed's "updated" / "date_modified", when it gives one


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """What the store knows of an entry it has already stored, to tell whether it came back changed."""

    title: str
    summary: str
    updated: datetime | None
    published: datetime


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    entries: tuple[Entry, ...]
    warning: str | None = None  # set when the feed was malformed but still readable
    parser: str = "feedparser"  # which parser read it: "fast", "feedparser" or "json"
    fallback: str | None = None  # why the fast parser did not answer, when feedparser did
    # The language of each entry's title and summary, in the order of ``entries``, when the parse worked it
    # out beside them (poll_read.read_feed); None when it did not.
    languages: tuple[str | None, ...] | None = None
    # The story fingerprint of each entry's capped title and summary (``poll_read.entry_story_text``), packed
    # (``stories.pack_fingerprint``; None for a text too short to have one), likewise; the main process uses one
    # for an article whose clustering text is exactly that text.
    fingerprints: tuple[bytes | None, ...] | None = None
    # The digest of each entry's key, title and summary (``poll_read.entry_digest``), packed, when the parse told the
    # entries' languages and fingerprints: the next read of the feed is given them back, and does not tell again
    # those of the entries it finds unchanged (``poll_read.UNTOLD_LANGUAGE`` and ``UNTOLD_FINGERPRINT`` stand in).
    digests: bytes = b""


@dataclass(frozen=True, slots=True)
class Page:
    """The main text and metadata extracted from an article page."""

    text: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    sitename: str | None = None
    language: str | None = None
    canonical: str | None = None  # the page's <link rel="canonical"> or og:url, as written


@dataclass(frozen=True, slots=True)
class Article:
    """An entry with its full text (when it could be had), ready to match and store."""

    feed: str
    key: str
    url: str | None
    guid: str | None
    title: str
    summary: str
    text: str  # extracted body; empty when full text is off or failed
    published: datetime  # UTC; first-seen time when the feed gave none
    first_seen: datetime
    author: str | None = None
    sitename: str | None = None
    fetch_error: str | None = None  # why the full text is missing
    language: str | None = None  # ISO 639-1 code detected from the text; None when unsure
    updated: datetime | None = None  # the entry's updated date, as the feed gave it
    aliases: tuple[str, ...] = ()  # other keys it is known by (the feed's link when the page named another)
    via: str | None = None  # the aggregator link (Google News) the entry came through
    via_error: str | None = None  # why that link could not be resolved to the publisher's

    @property
    def fingerprint(self) -> str:
        """A digest of the content (title, summary, text): a changed article has another."""
        content = "\x1f".join((self.title, self.summary, self.text)).encode("utf-8", "surrogatepass")
        return hashlib.sha256(content).hexdigest()

    def fields(self) -> dict[str, str]:
        """The text of each field watchlists can scope to, and the article's language ("" when unknown)."""
        return match_fields(self.title, self.summary, self.text, self.url, self.feed, self.language)


def match_fields(
    title: str, summary: str, text: str, url: str | None, feed: str, language: str | None
) -> dict[str, str]:
    """An article as the matcher reads it: each field a watchlist can scope to, and its language ("" when
    unknown). Live articles and stored ones both go through here, so a backtest reads what a poll read."""
    return {
        "title": title,
        "summary": summary,
        "body": text,
        "url": url or "",
        "feed": feed,
        "language": language or "",
    }


@dataclass(frozen=True, slots=True)
class WatchlistSpec:
    """What the matcher needs of a configured watchlist."""

    name: str
    terms: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    query: str | None = None
    feeds: tuple[str, ...] | None = None  # None: every feed
    stem: bool = True  # words also match their inflected forms
    languages: tuple[str, ...] | None = None  # None: articles in every language


@dataclass(frozen=True, slots=True)
class Snippet:
    """About 200 characters of one field around a match; ``marks`` are (start, end) offsets into ``text``."""

    field: str
    text: str
    marks: tuple[tuple[int, int], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"field": self.field, "text": self.text, "marks": list(map(list, self.marks))}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Snippet:
        marks = data.get("marks") or []
        assert isinstance(marks, list)
        return cls(
            field=str(data["field"]),
            text=str(data["text"]),
            marks=tuple((int(a), int(b)) for a, b in marks),
        )


# A match's details: matched, snippets, fields, found_as (see Match).
MatchDetails = tuple[tuple[str, ...], tuple[Snippet, ...], tuple[str, ...], tuple[str, ...]]


class Match:
    """Why one watchlist matched one article: ``matched``, the terms or clauses that matched as written in the
    config; up to three ``snippets``; the ``fields`` they were found in; ``found_as``, how each term was found
    (exact, through an alias, or as a word form).

    The matcher gives the details as ``later``, a function called on the first reading of any of them, whose
    result is kept: deciding which watchlists match an article does not build the evidence of a match nobody
    reads, and what is read is the same either way. Until then it keeps the scanned article (its folded text,
    about twice the text): a caller that keeps many matches before reading them calls ``built``. Like the other
    values it cannot be changed, and it is compared, hashed, printed and pickled by what it holds.
    """

    __slots__ = ("_details", "_later", "_watchlist")

    def __init__(
        self,
        watchlist: str,
        matched: tuple[str, ...] = (),
        snippets: tuple[Snippet, ...] = (),
        fields: tuple[str, ...] = (),
        found_as: tuple[str, ...] = (),
        *,
        later: Callable[[], MatchDetails] | None = None,
    ) -> None:
        self._watchlist = watchlist
        self._later = later
        self._details: MatchDetails | None = None if later else (matched, snippets, fields, found_as)

    def _read(self) -> MatchDetails:
        details = self._details
        if details is None:
            assert self._later is not None
            details = self._details = self._later()
            self._later = None  # what it holds (the scanned article) is no longer needed
        return details

    def built(self) -> Match:
        """This match, its details built now."""
        self._read()
        return self

    @property
    def watchlist(self) -> str:
        return self._watchlist

    # Each detail reads ``_details`` itself, ``_read`` called only to build them: one call a read, not two.
    @property
    def matched(self) -> tuple[str, ...]:
        details = self._details
        return (details if details is not None else self._read())[0]

    @property
    def snippets(self) -> tuple[Snippet, ...]:
        details = self._details
        return (details if details is not None else self._read())[1]

    @property
    def fields(self) -> tuple[str, ...]:
        details = self._details
        return (details if details is not None else self._read())[2]

    @property
    def found_as(self) -> tuple[str, ...]:
        details = self._details
        return (details if details is not None else self._read())[3]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Match):
            return NotImplemented
        return self._watchlist == other._watchlist and self._read() == other._read()

    def __hash__(self) -> int:
        return hash((self._watchlist, self._read()))

    def __repr__(self) -> str:
        matched, snippets, fields, found_as = self._read()
        return (
            f"Match(watchlist={self._watchlist!r}, matched={matched!r}, snippets={snippets!r}, "
            f"fields={fields!r}, found_as={found_as!r})"
        )

    def __reduce__(self) -> tuple[type[Match], tuple[object, ...]]:
        return Match, (self._watchlist, *self._read())


@dataclass(frozen=True, slots=True)
class PendingPage:
    """An article page to fetch again: its last fetch failed for a reason that may pass."""

    article_key: str
    feed: str
    url: str
    linked_from: str | None  # the feed that linked to it, for the fetcher's private-network guard
    failures: int  # failed fetches so far
    crashes: int  # of which killed or outlasted their worker
    first_failed: datetime
    next_attempt: datetime
    last_error: str


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A text's MinHash signature, the number of distinct shingles it was made of, and its LSH band hashes."""

    signature: tuple[int, ...]
    shingles: int
    bands: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    """An earlier article sharing at least one band with a new one: the story it is in and its fingerprint."""

    story: int
    article: int
    signature: tuple[int, ...]
    shingles: int


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a new article goes: ``story`` None means a story of its own, else the story it joins."""

    story: int | None
    similarity: float = 0.0


@dataclass(frozen=True, slots=True)
class StoryAlert:
    """Whether a watchlist's match on a story's later copy alerts, and what it adds to the story."""

    alert: bool
    new_terms: tuple[str, ...] = ()
    new_watchlist: bool = False

    @property
    def is_update(self) -> bool:
        return bool(self.new_terms) or self.new_watchlist


@dataclass(frozen=True, slots=True)
class Finding:
    """A new article with the watchlists it matched, ready to store; ``alert`` is False for old news.
    ``retry``: its page failed for a passing reason and is to be fetched again. ``folded``: the article's own
    title, summary and text as the matcher folded them to match it, by field name ("title", "summary", "body"),
    each its folded words separated by single spaces with a space before and after; the store indexes those words
    instead of folding the field again (and folds a field not there)."""

    article: Article
    matches: tuple[Match, ...]
    alert: bool
    retry: PendingPage | None = None
    fingerprint: Fingerprint | None = None  # None: too short to cluster, a story of its own
    page: FetchResult | None = None  # the response the article's text came from: kept as evidence of a hit
    folded: Mapping[str, str] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Hit:
    """A stored match of a watchlist on an article, as read back for listing and alerting."""

    id: int
    watchlist: str
    feed: str
    url: str | None
    title: str
    published: datetime
    found_at: datetime
    matched: tuple[str, ...]
    snippets: tuple[Snippet, ...]
    sitename: str | None = None
    article_id: int | None = None  # hits of one article share it: an alert shows the article once
    language: str | None = None  # the article's, None when unknown
    found_as: tuple[str, ...] = ()  # how each term was found: exact, alias or word form
    on_update: bool = False  # found when the article came back changed
    story: int | None = None  # the id of the story (its first article's id)
    outlets: tuple[str, ...] = ()  # the other outlets (site names, else feeds) the story is in
    new_terms: tuple[str, ...] = ()  # on an update to a story that already alerted: the terms it adds
    new_watchlist: bool = False  # on an update: the story had not matched this watchlist before
    via: str | None = None  # the aggregator link the article came through

    @property
    def is_update(self) -> bool:
        return bool(self.new_terms) or self.new_watchlist


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """One outlet's article of a story."""

    url: str | None
    feed: str
    title: str
    published: datetime
    first_seen: datetime


@dataclass(frozen=True, slots=True)
class Story:
    """Near-copies of one article: the first (earliest seen) gives the id and title, the rest follow."""

    id: int
    title: str
    first_seen: datetime
    watchlists: tuple[str, ...]
    articles: tuple[StoryArticle, ...]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One hit owed to one notifier."""

    id: int
    hit: Hit
    notifier: str
    status: str  # pending, sent, failed, dead
    attempts: int
    next_attempt: datetime | None
    last_error: str | None = None
    created_at: datetime | None = None
    sent_targets: tuple[int, ...] = field(default=())  # indexes of the notifier's URLs that already succeeded


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the store remembers about a feed between polls."""

    name: str
    url: str  # as configured
    current_url: str | None = None  # where a permanent redirect moved it
    etag: str | None = None
    last_modified: str | None = None
    last_polled: datetime | None = None
    last_status: str | None = None  # ok, not-modified, error
    last_error: str | None = None
    consecutive_failures: int = 0
    entries_seen: int = 0
    next_poll: datetime | None = None
    gone: bool = False  # the server said 410 Gone
    # The last document failed to parse: its digest (``poll_plan.document_digest``); etag and last_modified
    # are then its validators, so a 304 or the same bytes mean the same failure.
    failed_digest: str | None = None

    @property
    def fetch_url(self) -> str:
        return self.current_url or self.url


@dataclass(frozen=True, slots=True)
class PollResult:
    """The outcome of one feed's poll, returned as a value (a failing feed is not an exception)."""

    feed: str
    status: str  # ok, not-modified, error
    new_entries: int = 0
    hits: int = 0
    error: str | None = None
    warning: str | None = None
    elapsed: float = 0.0
    page_errors: tuple[str, ...] = ()
    next_poll: datetime | None = None  # when the feed is due again (after a failure: its backoff)
    consecutive_failures: int = 0
    updated_entries: int = 0  # stored entries that came back changed and were matched again


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """What one poll changes in a feed's stored state: decided by ``poll_plan.plan``, applied by the store."""

    feed: str
    polled_at: datetime
    status: str  # ok, not-modified, error
    next_poll: datetime
    consecutive_failures: int
    entries_seen: int | None  # None keeps the stored count (a failed poll saw nothing)
    error: str | None = None
    gone: bool = False
    moved_to: str | None = None  # the new address after a permanent redirect; None keeps the current one
    validators: tuple[str | None, str | None] | None = None  # new (etag, last_modified); None keeps them
    failed_digest: str | None = None  # the digest of the document that failed to parse, or None


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What one send attempt did to one delivery."""

    id: int
    sent: bool
    sent_targets: tuple[int, ...] = ()
    error: str | None = None
    next_attempt: datetime | None = None
    dead: bool = False


@dataclass(frozen=True, slots=True)
class FeedJob:
    """What a poll needs to know about one configured feed."""

    name: str
    url: str
    interval: float
    fulltext: bool
    user_agent: str | None = None  # this feed's own User-Agent, on its feed and page requests
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # may hold secrets
    page_mode: str | None = None  # a [[page]] source: "links" or "text"; None for a feed
    selector: str | None = None  # a page's CSS selector of its content

    def headers_for(self, url: str) -> dict[str, str]:
        """The configured headers (cookies, tokens) for a request of this feed to ``url``: only on the feed's
        own host, so that a page on another site never sees them."""
        return dict(self.headers) if self.headers and _same_host(url, self.url) else {}


def _same_host(url: str, other: str) -> bool:
    host = urlsplit(url).hostname
    return host is not None and host == urlsplit(other).hostname
