"""What an alert shows: one item per article, with every watchlist it matched and the snippets that add
something.

Several hits of one story (one per watchlist each of its copies matched) become one :class:`AlertItem`, so
counts in subjects and headings count stories, not hits or copies; the item names the story's other outlets
and, for a later copy that adds to a story that already alerted, what it adds. The item is the renderer's whole input; fields that later
stages add (a story's other outlets, the article's language) are optional, and every format shows them
when they are set.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from monitor.models import Hit, Snippet

MAX_SNIPPETS = 3
_MAX_FOLDED_TITLE = 10_000  # a snippet (about 200 characters) is compared with no more of a title
_FIELD_ORDER = {"title": 0, "summary": 1, "body": 2}
_HOST = re.compile(r"(?i)^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?/?$")
_HOST_WITH_PORT = re.compile(r"^[\w.-]+:\d+$")
_NOT_WORD = re.compile(r"[\W_]+")
_TRACKING = re.compile(r"(?i)^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|igshid|ocid)$")


@dataclass(frozen=True, slots=True)
class WatchlistMatch:
    """One watchlist an item matched, with the terms or clauses that matched, as configured."""

    watchlist: str
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlertItem:
    """One article in an alert (one story, once stories group articles). Strings are raw feed text:
    each format makes them safe when it renders them."""

    key: str  # what makes two hits the same item: the story (else the article)
    title: str
    url: str | None
    outlet: str  # a name a person knows: the site's name, else the feed's configured name
    published: datetime  # aware
    matches: tuple[WatchlistMatch, ...]
    snippets: tuple[Snippet, ...]  # already without repeats, strongest first
    also_in: tuple[str, ...] = ()  # other outlets that carried the same story
    language: str | None = None  # the article's language tag, when known
    update: str = ""  # for a later copy adding to a story that already alerted: what is new ("new: Baykar")

    @property
    def watchlists(self) -> tuple[str, ...]:
        return tuple(match.watchlist for match in self.matches)


def alert_items(hits: Sequence[Hit], *, max_snippets: int = MAX_SNIPPETS) -> list[AlertItem]:
    """One item per story (else per article), newest first (ties: the order the hits came in)."""
    grouped: dict[str, list[Hit]] = {}
    for hit in hits:
        grouped.setdefault(item_key(hit), []).append(hit)
    items = [_item(key, group, max_snippets) for key, group in grouped.items()]
    return sorted(items, key=lambda item: item.published, reverse=True)


def item_key(hit: Hit) -> str:
    """The story a hit is about, else its article's stored id; hits built without either fall back to the
    link."""
    if hit.story is not None:
        return f"story:{hit.story}"
    if hit.article_id is not None:
        return f"article:{hit.article_id}"
    return f"url:{hit.url}" if hit.url else f"hit:{hit.id}"


def _item(key: str, hits: list[Hit], max_snippets: int) -> AlertItem:
    # The newest copy of a story stands for it (ties: the first hit given).
    first = max(hits, key=lambda hit: _aware(hit.published))
    matches: dict[str, list[str]] = {}
    for hit in hits:
        terms = matches.setdefault(hit.watchlist, [])
        terms.extend(term for term in hit.matched if term not in terms)
    return AlertItem(
        key=key,
        title=first.title,
        url=publisher_link(first.url),
        outlet=outlet_name(first.sitename, first.feed),
        published=_aware(first.published),
        matches=tuple(WatchlistMatch(name, tuple(terms)) for name, terms in matches.items()),
        snippets=useful_snippets(first.title, (s for hit in hits for s in hit.snippets), max_snippets),
        also_in=first.outlets,
        update=story_update(hits),
        language=first.language,
    )


def story_update(hits: Sequence[Hit]) -> str:
    """What the hits add to a story that already alerted ("new: Baykar; the story now matches exports");
    empty when any of them is the story's first alert in this message."""
    if not hits or not all(hit.is_update for hit in hits):
        return ""
    parts: list[str] = []
    terms = [term for hit in hits if not hit.new_watchlist for term in hit.new_terms]
    if terms:
        parts.append("new: " + ", ".join(dict.fromkeys(terms)))
    parts.extend(f"the story now matches {hit.watchlist}" for hit in hits if hit.new_watchlist)
    return "; ".join(dict.fromkeys(parts))


def publisher_link(url: str | None) -> str | None:
    """The article's link without tracking parameters (``utm_*``, ``fbclid``, ``gclid``...)."""
    if not url or "?" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in pairs if not _TRACKING.match(k)]
    if len(query) == len(pairs):
        return url  # left exactly as the publisher wrote it
    return urlunsplit(parts._replace(query=urlencode(query, safe=":/@!$'()*,;")))


def outlet_name(sitename: str | None, feed: str) -> str:
    """The site's own name when it gave one that is a name; a bare host or URL gives the feed's name."""
    return site_name(sitename) or feed


@functools.lru_cache(maxsize=4096)  # a poll asks it of its feed's title once an entry
def site_name(*candidates: str | None) -> str | None:
    """The first candidate that is a name a person knows ("CBC News"), not a host or URL; None if none is."""
    for candidate in candidates:
        name = " ".join((candidate or "").split())
        if name and not _HOST.match(name) and not _HOST_WITH_PORT.match(name):
            return name
    return None


# --- snippets ----------------------------------------------------------------------------------------


def useful_snippets(
    title: str, snippets: Iterable[Snippet], limit: int = MAX_SNIPPETS
) -> tuple[Snippet, ...]:
    """The snippets that add something to the title and to each other, strongest first, at most ``limit``.

    A snippet whose folded words are all inside the title, or inside another snippet, is a repeat. Of two
    snippets where one contains the other, the longer stays. Strength: the number of matches marked in
    the snippet; ties keep the title, then summary, then body, then the order given.
    """
    folded_title = fold(title[:_MAX_FOLDED_TITLE])
    candidates = [s for s in dict.fromkeys(snippets) if fold(s.text) and fold(s.text) not in folded_title]
    ranked = sorted(enumerate(candidates), key=lambda pair: _strength(pair[1], pair[0]))
    kept: list[Snippet] = []
    for _, snippet in ranked:
        words = fold(snippet.text)
        if any(words in fold(other.text) for other in kept):
            continue
        kept = [other for other in kept if fold(other.text) not in words]
        kept.append(snippet)
    return tuple(kept[:limit])


def _strength(snippet: Snippet, order: int) -> tuple[int, int, int]:
    length = len(snippet.text)
    marks = sum(1 for a, b in snippet.marks if min(b, length) > max(a, 0))
    return (-marks, _FIELD_ORDER.get(snippet.field, 3), order)


def fold(text: str) -> str:
    """Words only, case and accents ignored: ' Le permis d’exportation… ' -> ' le permis d exportation '.

    The spaces at both ends make containment whole-word: ' permis ' is not inside ' permission '.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _NOT_WORD.sub(" ", bare).split()
    return f" {' '.join(words)} " if words else ""


def format_time(moment: datetime, zone: ZoneInfo) -> str:
    """'2026-11-03 15:05 CET': the time in the notifier's zone; naive times are taken to be UTC."""
    return _aware(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
