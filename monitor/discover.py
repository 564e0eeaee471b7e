"""Finding the feeds of a web address: the address itself when it is a feed; else the page's
``<link rel="alternate">`` feeds; else the common feed paths of its site (/feed, /rss, /rss.xml...)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from monitor import extract, feeds
from monitor.errors import FeedParseError, FetchError
from monitor.fetch import FEED_ACCEPT, Fetcher
from monitor.models import FetchResult

FEED_TYPES = {
    "application/rss+xml": "RSS",
    "application/atom+xml": "Atom",
    "application/feed+json": "JSON Feed",
    "application/json": "JSON Feed",
    "application/rdf+xml": "RSS",
}
COMMON_PATHS = ("/feed", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml", "/feed.json")


@dataclass(frozen=True, slots=True)
class FoundFeed:
    url: str
    title: str
    how: str  # "the address itself", "linked from the page", "common path"


@dataclass(frozen=True, slots=True)
class Discovery:
    url: str
    is_page: bool  # the address is an HTML page (a candidate page source when it has no feed)
    feeds: tuple[FoundFeed, ...]


def linked_feeds(html: bytes, base_url: str) -> list[FoundFeed]:
    """The feeds a page names in ``<link rel="alternate" type="application/rss+xml" href=...>``, in page order,
    each URL once. Only http(s) links count."""
    try:
        document = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    found: dict[str, FoundFeed] = {}
    for link in document.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = FEED_TYPES.get((link.get("type") or "").split(";")[0].strip().lower())
        href = (link.get("href") or "").strip()
        if "alternate" not in rel or kind is None or not href:
            continue
        url = urljoin(base_url, href)
        if urlsplit(url).scheme in ("http", "https") and url not in found:
            found[url] = FoundFeed(url, (link.get("title") or "").strip() or kind, "linked from the page")
    return list(found.values())


def feed_title(fetched: FetchResult) -> str | None:
    """The feed's title when the body is a feed, else None."""
    try:
        parsed = feeds.parse_feed(fetched.body, url=fetched.final_url, headers=fetched.headers)
    except FeedParseError:
        return None
    return parsed.title or urlsplit(fetched.final_url).hostname or fetched.final_url


async def discover(fetcher: Fetcher, url: str, *, max_size: int) -> Discovery:
    """What feeds ``url`` leads to. Raises FetchError when the address itself cannot be fetched."""
    fetched = await fetcher.fetch(url, max_size=max_size, accept=f"text/html;q=0.9, {FEED_ACCEPT}")
    title = None if extract.is_html(fetched) else feed_title(fetched)
    if title is not None:
        return Discovery(url, False, (FoundFeed(fetched.final_url, title, "the address itself"),))
    is_page = extract.is_html(fetched)
    linked = linked_feeds(fetched.body, fetched.final_url) if is_page else []
    if linked:
        return Discovery(url, is_page, tuple(linked))
    return Discovery(url, is_page, tuple(await _common_paths(fetcher, fetched.final_url, max_size)))


async def _common_paths(fetcher: Fetcher, page_url: str, max_size: int) -> Sequence[FoundFeed]:
    found: list[FoundFeed] = []
    for path in COMMON_PATHS:
        candidate = urljoin(page_url, path)
        try:
            fetched = await fetcher.fetch(candidate, max_size=max_size)
        except FetchError:
            continue
        title = feed_title(fetched)
        if title is not None and fetched.final_url not in {f.url for f in found}:
            found.append(FoundFeed(fetched.final_url, title, "common path"))
    return found
