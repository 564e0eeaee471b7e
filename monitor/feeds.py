"""Feed bytes -> entries: RSS 0.9x/1.0/2.0, RDF and Atom through feedparser, JSON Feed through json.

Entries are keyed by their canonical URL (monitor.urls), stable across feeds and tracking parameters.
"""

from __future__ import annotations

import calendar
import dataclasses
import hashlib
import html
import io
import json
import re
import time
import zlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import feedparser

from monitor import feeds_fast
from monitor.errors import FeedParseError
from monitor.models import Entry, ParsedFeed
from monitor.urls import canonical_url

MAX_DECOMPRESSED = 50 << 20  # no feed document may be larger than this, unpacked or not
GZIP_MAGIC = b"\x1f\x8b"

# Response headers feedparser must not see: the body it gets is already decoded and whole.
DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def parse_feed(
    body: bytes, *, url: str, headers: Mapping[str, str] | None = None, fast: bool = True
) -> ParsedFeed:
    """Read a feed body. Raises FeedParseError when it is not a feed (empty, HTML, unparseable).

    XML goes through the fast path first (feeds_fast) and to feedparser whenever the fast path cannot vouch
    for its answer; `fast=False` asks feedparser alone. The result says which parser read it, and why the
    fast one did not.
    """
    quick = parse_feed_fast(body, url=url, http_charset=_http_charset(headers)) if fast else None
    if isinstance(quick, ParsedFeed):
        return quick
    body, start = _prepared(body, url)
    if start.startswith((b"{", b"[")):
        return _parse_json_feed(body, url)
    if _html_page(body, start):
        raise FeedParseError(url, NOT_A_FEED_BUT_HTML)
    parsed = _parse_xml_feed(body, url, headers or {}, start)
    return dataclasses.replace(parsed, fallback=quick) if quick else parsed


def parse_feed_fast(body: bytes, *, url: str, http_charset: str | None = None) -> ParsedFeed | str:
    """The fast path alone: the feed (JSON Feeds included), or why feedparser has to read it.
    ``http_charset``: the charset the response's content type names, if any.

    Raises FeedParseError for what no parser could read (empty, broken gzip, invalid JSON), as parse_feed does.
    """
    body, start = _prepared(body, url)
    if start.startswith((b"{", b"[")):
        return _parse_json_feed(body, url)
    vetted = feeds_fast.parse_vetted(body, http_charset)
    return _fast_feed(vetted, url) if isinstance(vetted, feeds_fast.RawFeed) else vetted


def _http_charset(headers: Mapping[str, str] | None) -> str | None:
    """The charset parameter of the response's content type, if it has one."""
    for name, value in (headers or {}).items():
        if name.lower() == "content-type":
            for parameter in value.split(";")[1:]:
                key, _, charset = parameter.partition("=")
                if key.strip().lower() == "charset" and charset.strip():
                    return charset.strip()
    return None


def _prepared(body: bytes, url: str) -> tuple[bytes, bytes]:
    """The document unpacked and trimmed, with its sniffed start; raises for what is no document at all."""
    body = _gunzip(body, url) if body.startswith(GZIP_MAGIC) else body
    if len(body) > MAX_DECOMPRESSED:
        raise FeedParseError(url, f"feed larger than {MAX_DECOMPRESSED >> 20} MB")
    start = _significant_start(body)
    if not start:
        raise FeedParseError(url, "empty body")
    if start.startswith(b"<?xml") and body[:1].isspace():
        body = body.lstrip()  # a blank line before the XML declaration is common and harmless
    return body, start


def _gunzip(body: bytes, url: str) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, MAX_DECOMPRESSED)
    except zlib.error as exc:
        raise FeedParseError(url, f"gzip body could not be decompressed: {exc}") from exc
    if inflater.unconsumed_tail:
        raise FeedParseError(url, f"gzip body unpacks to more than {MAX_DECOMPRESSED >> 20} MB")
    if not inflater.eof:
        raise FeedParseError(url, "gzip body could not be decompressed: it is truncated")
    return data


def _significant_start(body: bytes) -> bytes:
    """The first bytes after BOMs and whitespace, lower-cased, for sniffing what the body is."""
    head = body[:4096]
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        head = head.removeprefix(bom)
    if head[:2] in (b"<\0", b"\0<"):  # UTF-16 without a BOM: sniff the ASCII bytes only
        head = head.replace(b"\0", b"")
    return head.lstrip().lower()


NOT_A_FEED_BUT_HTML = (
    "not a feed: looks like an HTML page "
    "(`monitor feeds add URL` finds the feed of a web page; or watch it as a [[page]])"
)
# What could make feedparser read a document that looks like HTML as a feed after all, wherever it sits: a
# feed's element, a feed format's namespace, the Netscape RSS doctype.
_FEED_MARKERS = (
    b"<rss",
    b"<feed",
    b"<rdf",
    b"purl.org/rss",
    b"netscape.com",
    b"w3.org/2005/atom",
    b"purl.org/atom",
)


def _html_page(body: bytes, start: bytes) -> bool:
    """Whether the document is an HTML page with nothing in it feedparser could read as a feed: feedparser
    would only spend a loose parse of the whole page (11 ms a page on the farm's) to come to the same answer."""
    if not _looks_like_html(start):
        return False
    lowered = body.lower()
    return not any(marker in lowered for marker in _FEED_MARKERS)


def _looks_like_html(start: bytes) -> bool:
    return start.startswith((b"<!doctype html", b"<html")) or (b"<html" in start and b"<rss" not in start)


# ---- XML feeds (fast path) ------------------------------------------------------------------------------


def _fast_feed(raw: feeds_fast.RawFeed, url: str) -> ParsedFeed:
    built = (
        _entry(url, e.link, e.guid, _plain(e.title), _plain(e.summary), e.published, e.author)
        for e in raw.entries
    )
    entries = tuple(e for e in built if _has_content(e))
    return ParsedFeed(title=_plain(raw.title), entries=entries, parser="fast")


# ---- XML feeds (feedparser) -------------------------------------------------------------------------------


_WIDE_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<", b"\x00\x00")


def _without_nul(body: bytes) -> bytes:
    """NUL is never allowed in XML; a stray one made the whole feed "malformed" and could end a title early.
    It becomes a space, except in UTF-16 and UTF-32 bodies, where zero bytes are part of the characters."""
    if b"\x00" not in body or body.startswith(_WIDE_STARTS):
        return body
    return body.replace(b"\x00", b" ")


# An entry keeps only the plain text of its title and summary (``_plain``), never their HTML: feedparser's HTML
# sanitiser and its resolver of the links inside HTML, a third of its time on the corpus's feeds, would work for
# nothing. tests/test_feeds.py reads every corpus feed and hostile markup both ways and finds the same entries.
FEEDPARSER_OPTIONS: dict[str, bool] = {"sanitize_html": False, "resolve_relative_uris": False}


def _parse_xml_feed(body: bytes, url: str, headers: Mapping[str, str], start: bytes) -> ParsedFeed:
    body = _without_nul(body)
    response_headers = {k.lower(): v for k, v in headers.items() if k.lower() not in DROPPED_HEADERS}
    response_headers["content-type"] = _content_type(body, response_headers.get("content-type"))
    response_headers["content-location"] = url
    try:
        # Bytes only ever inside BytesIO: bare bytes would be taken for a file path.
        parsed = feedparser.parse(io.BytesIO(body), response_headers=response_headers, **FEEDPARSER_OPTIONS)
    except Exception as exc:  # feedparser is a large parser of hostile input: any crash means "not a feed"
        raise FeedParseError(url, f"unparseable: {type(exc).__name__}: {exc}") from exc
    if not parsed.version and _looks_like_html(start):
        raise FeedParseError(url, NOT_A_FEED_BUT_HTML)
    problem = _bozo_reason(parsed)
    # A broken document can leave an "entry" with nothing in it: that is debris, not news.
    entries = tuple(e for e in (_xml_entry(item, url) for item in parsed.entries) if _has_content(e))
    if not entries and (_is_fatal(parsed) or not parsed.version):
        raise FeedParseError(url, f"not a feed: {problem or 'no RSS, RDF or Atom element found'}")
    warning = f"malformed feed, read anyway: {problem}" if problem else None
    return ParsedFeed(
        title=_plain(parsed.feed.get("title", "")), entries=entries, warning=warning, parser="feedparser"
    )


def _content_type(body: bytes, declared: str | None) -> str:
    """The content type to tell feedparser, correcting charset labels that are known to mislead.

    Bytes above 0x7F that decode as UTF-8 are UTF-8 whatever the header or the XML declaration claims:
    labels lie far more often than text in another encoding happens to form valid UTF-8.
    Without a charset, the type becomes application/xml so that the XML declaration decides (RFC 7303);
    feedparser would read text/xml as US-ASCII, and flags a missing content type as malformed.
    """
    declared = declared or "application/xml"
    mime = declared.split(";")[0].strip().lower() or "application/xml"
    if "charset=" not in declared.lower() and mime.startswith("text/") and "xml" in mime:
        declared = mime = "application/xml"
    if body.startswith((b"\xff\xfe", b"\xfe\xff")) or body.isascii():
        return declared
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return declared
    return f"{mime}; charset=utf-8"


def _is_fatal(parsed: Any) -> bool:
    """A bozo flag about the charset label only means the label was wrong; the document itself was read."""
    benign = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    return bool(parsed.get("bozo")) and not isinstance(parsed.get("bozo_exception"), benign)


def _bozo_reason(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    text = str(exc).strip() if exc is not None else ""
    return (text or type(exc).__name__)[:200]


def _xml_entry(item: Any, feed_url: str) -> Entry:
    link = _text_or_none(item.get("link"))
    guid = _text_or_none(item.get("id"))
    title = _plain(item.get("title", ""))
    summary = _plain(item.get("summary") or _first_content(item))
    author = _text_or_none(item.get("author"))
    # dict.get: FeedParserDict.get would map a missing key to another one, with a deprecation warning.
    published = _struct_time_utc(dict.get(item, "published_parsed") or dict.get(item, "updated_parsed"))
    entry = _entry(feed_url, link, guid, title, summary, published, author)
    return dataclasses.replace(entry, updated=_struct_time_utc(dict.get(item, "updated_parsed")))


def _first_content(item: Any) -> str:
    for content in item.get("content") or ():
        value = content.get("value")
        if value:
            return str(value)
    return ""


def _struct_time_utc(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


# ---- JSON Feed -------------------------------------------------------------------------------------------


def _has_content(entry: Entry) -> bool:
    return bool(entry.url or entry.guid or entry.title or entry.summary)


def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        document = json.loads(body, strict=False)  # raw control characters in strings are common
    except (ValueError, RecursionError) as exc:
        raise FeedParseError(url, f"not a feed: invalid JSON ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise FeedParseError(url, "not a feed: JSON without a JSON Feed 'items' list")
    version = str(document.get("version", ""))
    known = "jsonfeed.org/version/" in version
    warning = None if known else f"JSON Feed without a known version ({version!r}), read anyway"
    entries = tuple(_json_entry(item, url) for item in document["items"] if isinstance(item, dict))
    return ParsedFeed(
        title=_plain(_string(document.get("title"))), entries=entries, warning=warning, parser="json"
    )


def _json_entry(item: Mapping[str, Any], feed_url: str) -> Entry:
    link = _text_or_none(_string(item.get("url")) or _string(item.get("external_url")))
    guid = _text_or_none(_string(item.get("id")))
    title = _plain(_string(item.get("title")))
    summary = _plain(
        _string(item.get("summary")) or _string(item.get("content_text")) or _string(item.get("content_html"))
    )
    published = _iso_utc(item.get("date_published")) or _iso_utc(item.get("date_modified"))
    entry = _entry(feed_url, link, guid, title, summary, published, _json_author(item))
    return dataclasses.replace(entry, updated=_iso_utc(item.get("date_modified")))


def _json_author(item: Mapping[str, Any]) -> str | None:
    authors = item.get("authors")
    candidates = authors if isinstance(authors, list) else [item.get("author")]  # 1.1 list, 1.0 object
    names = [_string(a.get("name")) for a in candidates if isinstance(a, dict)]
    return _text_or_none(", ".join(n for n in names if n))


def _iso_utc(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _string(value: object) -> str:
    """JSON Feed fields as text; ids may be numbers, anything else counts as missing."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


# ---- shared ------------------------------------------------------------------------------------------------


# A feed's entries come back at every poll that finds it changed, most of them with the links of the poll
# before: their keys are kept rather than normalised again (url_normalize is most of canonical_url's cost).
_entry_key = lru_cache(maxsize=8192)(canonical_url)


def _entry(
    feed_url: str,
    link: str | None,
    guid: str | None,
    title: str,
    summary: str,
    published: datetime | None,
    author: str | None,
) -> Entry:
    url = urljoin(feed_url, link) if link else None
    if url:
        key = _entry_key(url)
    elif guid:
        key = guid
    else:
        key = "sha256:" + hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()[:32]
    return Entry(
        key=key, url=url, guid=guid, title=title, summary=summary, published=published, author=author
    )


def _text_or_none(value: object) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    return text or None


def _plain(markup: object) -> str:
    """HTML fragment -> one line of plain text: tags dropped, entities decoded, whitespace collapsed."""
    if not isinstance(markup, str) or not markup:
        return ""
    markup = markup.replace("\x00", " ")
    if "<" not in markup and "&" not in markup:
        return _one_line(markup)
    parts = _simple_markup_text(markup)
    if parts is None:
        stripper = _TextOnly()
        stripper.feed(markup)
        stripper.close()
        parts = list(stripper.parts())
    return _one_line("".join(parts))


def _one_line(text: str) -> str:
    """Whitespace collapsed to single spaces, none at the ends: what ``re.sub(r"\\s+", " ", text).strip()``
    gives (str.split knows the same whitespace as the pattern's \\s, every code point checked), in half its
    time."""
    return " ".join(text.split())


# A start or end tag whose name and attributes are plain: with text, what most feed summaries are made of.
# Every tag this accepts, HTMLParser reads as the same tag, so both give the same text (tested against each
# other); anything else (comments, CDATA, script or style, a stray "<") goes through HTMLParser.
_PLAIN_TAG = re.compile(
    r"""<(/?)([a-zA-Z][a-zA-Z0-9]*)"""
    r"""(?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*/?>"""
)


def _simple_markup_text(markup: str) -> list[str] | None:
    """The text pieces of markup made only of text and plain tags, as _TextOnly collects them; else None.

    One split at the plain tags, rather than a token at a time (a third of the fast path's CPU on the farm's
    feeds): the markup is of that kind when no "<" is left in the text between them. Each text piece is
    unescaped on its own, as HTMLParser does (an entity never runs across a tag)."""
    pieces = _PLAIN_TAG.split(markup)  # text, "/" or "", name, text, "/" or "", name, ..., text
    texts = pieces[::3]
    # Each plain tag holds one "<" at least: as many in all as tags, and none is left for the text. More (a
    # quoted attribute's "<", or a stray one): the text is looked at.
    if markup.count("<") != len(pieces) // 3 and any("<" in text for text in texts):
        return None
    first = texts[0]
    parts = [html.unescape(first) if "&" in first else first]
    for name, text in zip(pieces[2::3], texts[1:], strict=True):
        name = name.lower()
        if name in _TextOnly.SKIPPED:
            return None
        if name in _TextOnly.BREAKING:
            parts.append(" ")
        if text:
            parts.append(html.unescape(text) if "&" in text else text)
    return parts


class _TextOnly(HTMLParser):
    """Collects the text of an HTML fragment, with a space where a block ends so words do not fuse."""

    SKIPPED = frozenset({"script", "style", "template", "noscript", "applet"})
    BREAKING = frozenset({"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6"})
    BREAKING |= frozenset({"blockquote", "pre", "ul", "ol", "table", "section", "article", "figure", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skipping = 0

    def parts(self) -> Iterator[str]:
        return iter(self._parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self._skipping += 1
        elif tag in self.BREAKING:
            self._parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BREAKING:
            self._parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._parts.append(data)
