"""Pages without feeds, read as feeds (part of the feeds stage: bytes -> entries).

``links`` mode: each link in the page's main content (or in the elements a CSS ``selector`` picks) is an entry,
titled with the link text; the store's seen-check makes only new links new entries. ``text`` mode: the page's
main text is compared with the text of the last poll, and the sentences it gained become one entry.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urldefrag, urlsplit

import lxml.html
from lxml import etree

from monitor.errors import FeedParseError
from monitor.models import Entry, ParsedFeed
from monitor.urls import canonical_url

_BOILERPLATE = ("nav", "header", "footer", "aside", "script", "style", "noscript", "form")
_MAIN = ("main", "[role=main]", "article", "#content", "#main", "body")
_BLOCKS = (
    "p",
    "div",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "td",
    "th",
    "br",
    "section",
    "article",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "table",
    "ul",
    "ol",
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _document(body: bytes, url: str) -> lxml.html.HtmlElement:
    try:
        document = lxml.html.document_fromstring(body)
    except (etree.ParserError, ValueError) as exc:
        raise FeedParseError(url, f"the page does not parse as HTML ({exc})") from None
    for element in document.iter(*_BOILERPLATE):
        element.drop_tree()
    document.make_links_absolute(url, resolve_base_href=True)
    return document


def _content(document: lxml.html.HtmlElement, url: str, selector: str | None) -> list[lxml.html.HtmlElement]:
    if selector:
        chosen = document.cssselect(selector)
        if not chosen:
            raise FeedParseError(url, f"selector {selector!r} matches nothing on the page")
        return list(chosen)
    for candidate in _MAIN:
        chosen = document.cssselect(candidate)
        if chosen:
            return [chosen[0]]
    return [document]


def page_links(body: bytes, url: str, selector: str | None = None) -> ParsedFeed:
    """The links of the page's main content as entries, in page order, each URL once (``links`` mode)."""
    document = _document(body, url)
    title = (document.findtext(".//title") or "").strip() or url
    page = canonical_url(url)
    entries: dict[str, Entry] = {}
    for element in _content(document, url, selector):
        for link in element.iter("a"):
            href = urldefrag((link.get("href") or "").strip())[0]
            text = " ".join(link.text_content().split())
            if not text or urlsplit(href).scheme not in ("http", "https"):
                continue
            key = canonical_url(href)
            if key != page and key not in entries:
                entries[key] = Entry(key=key, url=href, guid=None, title=text, summary="", published=None)
    return ParsedFeed(title, tuple(entries.values()))


def page_text(body: bytes, url: str, selector: str | None = None) -> str:
    """The main text of the page, one block a line (``text`` mode)."""
    document = _document(body, url)
    for block in document.iter(
        *_BLOCKS
    ):  # keep blocks apart: "Reports" then "Canada publishes...", not one run
        block.tail = "\n" + (block.tail or "")
    blocks = [element.text_content() for element in _content(document, url, selector)]
    lines = (" ".join(line.split()) for block in blocks for line in block.splitlines())
    return "\n".join(line for line in lines if line)


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def added_sentences(before: str | None, after: str) -> list[str]:
    """The sentences of ``after`` not in ``before``, in order; all of them on the first look."""
    known = set(sentences(before or ""))
    return [sentence for sentence in sentences(after) if sentence not in known]


def text_change_entry(url: str, title: str, added: Sequence[str], now: datetime) -> Entry:
    """One entry holding the sentences a page gained; its key is unique to that change."""
    summary = "\n".join(added)
    digest = hashlib.sha256(f"{url}\n{summary}".encode()).hexdigest()[:32]
    return Entry(
        key=f"page-change:{digest}",
        url=url,
        guid=f"page-change:{digest}",
        title=f"{title}: changed",
        summary=summary,
        published=now,
    )
