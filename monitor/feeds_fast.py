"""The fast way through a feed: fastfeedparser (lxml) on documents a hardened strict parse has vetted.

feedparser stays the reference. This path only answers for documents where it is known to agree with it:
well-formed XML in UTF-8 or ASCII, no DTD entities, within libxml2's default limits on depth and text size,
with at least as many entries as the document has item or entry elements. Anything else gets a reason back
and goes to feedparser, so the fast path can only ever save time, never lose an entry or a defence.
"""

from __future__ import annotations

import calendar
import codecs
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import fastfeedparser
from feedparser.datetimes import _parse_date
from lxml import etree

# Strict, no entity substitution, no DTD loading, no network, and libxml2's default limits (no huge_tree:
# depth 256, 10 MB text nodes). fastfeedparser's own parsers set huge_tree=True and recover=True, so it only
# sees documents this parser has accepted whole.
_VETTING_PARSER = etree.XMLParser(
    recover=False,
    resolve_entities=False,
    load_dtd=False,
    no_network=True,
    huge_tree=False,
    collect_ids=False,
    remove_comments=True,
    remove_pis=True,
)
_SAME_AS_UTF8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_ENTRY_TAGS = ("{*}item", "{*}entry")
# The element names feedparser reads as an entry's summary, content and dates, whatever their namespace.
_SUMMARY_NAMES = frozenset({"description", "summary", "abstract"})
_CONTENT_NAMES = frozenset({"encoded", "content", "fullitem", "body"})
_ATOM = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
_RSS1 = "http://purl.org/rss/1.0/"
# The namespaces of the root elements fastfeedparser knows: plain RSS, Atom, RDF. feedparser also reads others
# (the Userland RSS 2 namespace, say), where fastfeedparser finds no title or links.
_ROOT_NAMESPACES = frozenset({None, "http://www.w3.org/1999/02/22-rdf-syntax-ns#", *_ATOM})
# media:content is an enclosure, not text; only these namespaces' content elements are an entry's text.
_CONTENT_NAMESPACES = frozenset({None, "http://purl.org/rss/1.0/modules/content/", *_ATOM})
_LINK_NAMESPACES = frozenset({None, _RSS1, *_ATOM})
_TEXT_NAMESPACES = _CONTENT_NAMESPACES | {
    _RSS1,
    "http://purl.org/dc/elements/1.1/",
    "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "http://search.yahoo.com/mrss/",
}
_DC = "http://purl.org/dc/elements/1.1/"
_ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
_MEDIA = "http://search.yahoo.com/mrss/"
_CONTENT_MODULE = "http://purl.org/rss/1.0/modules/content/"
# How feedparser reads each element that may give an entry its summary (its handlers for them, by name and
# namespace): a description (RSS, RSS 1.0, Dublin Core, Media RSS) or a summary (Atom, iTunes, none) becomes the
# summary, or content when a summary came before and no content yet; an abstract is always a summary; content
# (content:encoded, Atom's) marks the entry as having content; a body does not.
_SUMMARY_ROLES: dict[tuple[str, str | None], str] = {
    **{("description", ns): "summary-or-content" for ns in (None, _RSS1, _DC, _MEDIA)},
    **{("summary", ns): "summary-or-content" for ns in (None, *_ATOM, _ITUNES)},
    ("abstract", None): "summary",
    **{("encoded", _CONTENT_MODULE): "content", ("fullitem", None): "content", ("body", None): "body"},
    **{("content", ns): "content" for ns in (None, *_ATOM)},
}
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"html", "text", "text/html", "text/plain", "escaped"})
_PUBLISHED_NAMES = frozenset({"pubdate", "published", "issued"})
_UPDATED_NAMES = frozenset({"updated", "modified", "date", "lastbuilddate"})


@dataclass(frozen=True, slots=True)
class RawEntry:
    """An entry as the fast parser read it, before the shared normalisation of feeds.py."""

    link: str | None
    guid: str | None
    title: str  # markup allowed; feeds.py makes it plain text
    summary: str
    published: datetime | None
    author: str | None


@dataclass(frozen=True, slots=True)
class RawFeed:
    title: str
    entries: tuple[RawEntry, ...]


def parse_vetted(body: bytes, http_charset: str | None = None) -> RawFeed | str:
    """The feed read by the fast path, or the reason it must go to feedparser instead. ``http_charset``: the
    charset the response's content type named, if any."""
    root = _vetted_root(body, http_charset)
    if isinstance(root, str):
        return root
    encoding = (root.getroottree().docinfo.encoding or "utf-8").lower()
    if encoding not in _SAME_AS_UTF8 and not body.isascii():
        body = _as_utf8(body, encoding)  # fastfeedparser reads every document as UTF-8
    elements = list(root.iter(*_ENTRY_TAGS))
    try:
        parsed = fastfeedparser.parse(body, include_tags=False, include_media=False, include_enclosures=False)
    except Exception as exc:  # a fast parser of hostile input: any failure just means "ask the reference"
        return f"fast parser failed: {type(exc).__name__}: {str(exc)[:120]}"
    items = parsed.get("entries") or ()
    if not items:
        return "fast parser found no entries"
    if len(items) != len(elements):
        return f"fast parser found {len(items)} entries for {len(elements)} item/entry elements"
    entries = []
    base_declared = b"xml:base" in body
    content_seen = _content_seen_before(root, elements[0])
    for index, (item, element) in enumerate(zip(items, elements, strict=True)):
        entry = _raw_entry(item, element, base_declared, content_seen if index == 0 else False)
        if isinstance(entry, str):
            return entry
        entries.append(entry)
    feed = parsed.get("feed") or {}
    return RawFeed(title=_text(feed.get("title")), entries=tuple(entries))


def _vetted_root(body: bytes, http_charset: str | None) -> Any:
    """The document's root element when the fast path may read it, else the reason it may not."""
    if b"<!ENTITY" in body:
        return "the document declares entities"
    try:
        root = etree.fromstring(body, parser=_VETTING_PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return f"not well-formed XML: {str(exc)[:120]}"
    namespace = etree.QName(root).namespace
    if namespace not in _ROOT_NAMESPACES:
        return f"root element in the namespace {namespace[:80]}"
    encoding = (root.getroottree().docinfo.encoding or "utf-8").lower()
    if encoding not in _SAME_AS_UTF8 and not body.isascii():
        problem = _charset_problem(body, encoding, http_charset)
        if problem:
            return problem
    return root


def _charset_problem(body: bytes, declared: str, http_charset: str | None) -> str | None:
    """Why a document in another encoding than UTF-8 may read differently through feedparser, or None.

    lxml reads the bytes in the encoding the XML declaration names. feedparser does the same unless the
    response's content type names another charset, and the pipeline tells it UTF-8 for bytes that decode as
    UTF-8 whatever the labels say (feeds._content_type): the fast path only answers when neither applies.
    """
    name = _codec(declared)
    if name is None or (http_charset is not None and _codec(http_charset) != name):
        return f"encoded as {declared}"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return f"encoded as {declared}, in bytes that are also UTF-8"


_DECLARED_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")


def _as_utf8(body: bytes, encoding: str) -> bytes:
    """The document in UTF-8, its XML declaration saying so (the vetting parse has read it whole in
    ``encoding``, so it decodes)."""
    text = body.decode(_codec(encoding) or encoding).encode("utf-8")
    return _DECLARED_ENCODING.sub(rb'\1"utf-8"', text, count=1)


def _codec(label: str) -> str | None:
    try:
        return codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None


def _raw_entry(item: Any, element: Any, base_declared: bool, content_seen: bool | None) -> RawEntry | str:
    """One entry: link, id, title and author from fastfeedparser; summary and dates read as feedparser does.

    fastfeedparser shortens and re-flows its descriptions and parses dates its own way, so those two come
    from the element itself, with feedparser's own date parser and its rules for which of several summary and
    content elements is the summary (``feedparser_summary``). ``content_seen``: whether feedparser counts
    content as seen when this entry starts (``_content_seen_before``; None: it cannot be told).
    """
    # (role, depth, text) of the summary and content elements, in document order; and the text of the
    # summary-named elements feedparser has no handler for
    texts: list[tuple[str, int, str]] = []
    others: list[str] = []
    links: set[str] = set()
    guid_link = None
    published = updated = None
    for child in element.iter():
        if child is element or not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        name, namespace = qname.localname.lower(), qname.namespace
        is_content = name in _CONTENT_NAMES and namespace in _CONTENT_NAMESPACES
        is_text = is_content or (
            (name in _SUMMARY_NAMES or name == "title") and namespace in _TEXT_NAMESPACES
        )
        text = child.text
        if is_text and (problem := _text_problem(child, name)):
            text = _xhtml_markup(child) if name != "title" else None
            if text is None:
                return problem
        role = _SUMMARY_ROLES.get((name, namespace)) if name in _SUMMARY_NAMES or is_content else None
        if role is not None:
            texts.append((role, _depth(child, element), (text or "").strip()))
        elif name in _SUMMARY_NAMES:
            others.append((text or "").strip())
        elif is_content:
            return f"{name} element in {namespace} in an entry"
        elif name == "link" and namespace in _LINK_NAMESPACES:
            links.update(_link_target(child))
        elif name in ("guid", "id") and child.get("isPermaLink", "true") == "true" and guid_link is None:
            guid_link = _text_or_none(child.text)
        elif name in _PUBLISHED_NAMES:
            published = _feedparser_date(child.text) or published
        elif name in _UPDATED_NAMES:
            updated = _feedparser_date(child.text) or updated
    summary = feedparser_summary(texts, bool(content_seen))
    unsure = content_seen is None and feedparser_summary(texts, True) != summary
    if unsure or any(other != summary for other in others):
        return "several different summaries in an entry"
    if len(links) > 1 or "" in links:
        return "several alternate links, or an empty one, in an entry"
    link = next(iter(links), None) or guid_link
    if base_declared and link and not urlsplit(link).scheme:
        return "a relative link under xml:base"
    return RawEntry(
        link=link,
        guid=_text_or_none(item.get("id")),
        title=_text(item.get("title")),
        summary=summary,
        published=published or updated,
        author=_text_or_none(item.get("author")),
    )


def feedparser_summary(texts: list[tuple[str, int, str]], has_content: bool = False) -> str:
    """The summary the pipeline takes from feedparser's reading of an entry (its summary, else its first
    non-empty content), from the entry's summary and content elements in document order: (role in
    ``_SUMMARY_ROLES``, depth under the entry, text). ``has_content``: whether content counts as seen already
    when the entry starts.

    A summary read as the summary replaces an earlier one unless that one sat shallower; one that comes after
    a summary and before any content is read as content instead; content ends by becoming the summary when there
    is none yet (outside the depth bookkeeping, so that a later summary replaces it whatever its depth)."""
    summary: str | None = None
    summary_depth: int | None = None
    contents: list[str] = []
    for role, depth, text in texts:
        if role == "summary-or-content" and summary is not None and not has_content:
            role = "content"
        if role in ("summary", "summary-or-content"):
            if summary_depth is None or depth <= summary_depth:
                summary, summary_depth = text, depth
            continue
        has_content = has_content or role == "content"
        contents.append(text)
        if summary is None:
            summary = text
    return summary or next((text for text in contents if text), "")


def _content_seen_before(root: Any, first: Any) -> bool | None:
    """Whether feedparser counts content as seen when the first entry starts: it clears that mark at the end of
    each entry, not at the start of the first, so the feed's own elements can leave it set (a podcast's
    itunes:summary and then its description, the second read as content). None when elements feedparser may
    read in another context (an image's, say) could have set it: the first entry's summary is then trusted
    only if it is the same either way."""
    channel = next(root.iter("{*}channel"), root)
    feed_summary = content_seen = False
    for node in root.iter():
        if node is first:
            return content_seen
        if not isinstance(node.tag, str):
            continue
        qname = etree.QName(node)
        role = _SUMMARY_ROLES.get((qname.localname.lower(), qname.namespace))
        if role is None:
            continue
        if node.getparent() is not channel:
            return None
        if role == "content":
            feed_summary = content_seen = True  # its text is copied to the feed's summary when it has none
        elif role == "body":
            feed_summary = True
        elif role == "summary-or-content" and feed_summary and not content_seen:
            content_seen = True
        elif role == "summary-or-content" and qname.localname.lower() == "summary":
            feed_summary = True  # a description of the feed is its subtitle, not its summary
    return content_seen


def _depth(node: Any, entry: Any) -> int:
    depth = 0
    while node is not entry:
        node, depth = node.getparent(), depth + 1
    return depth


def _text_problem(element: Any, name: str) -> str | None:
    """Why feedparser may read this text element differently: XHTML, out-of-line, or with markup inside."""
    kind = element.get("type", "html").lower()
    if kind not in _TEXT_TYPES or element.get("src") is not None:
        return f"{kind}-typed {name} in an entry"
    if len(element):
        return f"markup inside {name} in an entry"
    return None


_XHTML = "http://www.w3.org/1999/xhtml"


def _xhtml_markup(element: Any) -> str | None:
    """The markup of an Atom text construct of type xhtml as feedparser gives it: what its one XHTML div holds,
    serialised without namespace prefixes; None for any other shape (feedparser then reads it)."""
    if element.get("type", "").lower() != "xhtml" or element.get("src") is not None or len(element) != 1:
        return None
    div = element[0]
    if div.tag != f"{{{_XHTML}}}div" or (element.text or "").strip() or (div.tail or "").strip():
        return None
    inner = etree.fromstring(etree.tostring(div))  # a copy, its own root: renamed without touching the feed
    for node in inner.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != _XHTML:
            return None  # comments, or elements of other vocabularies (MathML, SVG): feedparser's own rules
        node.tag = etree.QName(node).localname
    etree.cleanup_namespaces(inner)
    # The div's own leading text escaped: it is markup, as the serialised children and their tails are.
    text = html.escape(inner.text or "", quote=False)
    return text + "".join(etree.tostring(node, encoding=str, with_tail=True) for node in inner)


def _link_target(element: Any) -> list[str]:
    """An RSS link's text, or an Atom link's href when it is an alternate HTML page (feedparser's rule)."""
    href = element.get("href")
    if href is None:
        text = _text_or_none(element.text)
        return [text] if text else []
    rel = element.get("rel", "alternate")
    kind = element.get("type", "application/atom+xml" if rel == "self" else "text/html")
    return [href.strip()] if rel == "alternate" and kind in _HTML_TYPES else []


def _feedparser_date(text: str | None) -> datetime | None:
    parsed = _parse_date(text.strip()) if text and text.strip() else None
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _text_or_none(value: object) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    return text or None
