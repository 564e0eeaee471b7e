"""OPML subscription lists: read the feeds out of one (bytes in, values out), decide which become new [[feed]]
tables, and write the configured feeds back out as OPML 2.0.

The XML parser is lxml with entities, DTDs and the network turned off, so a hostile file can neither expand
an entity bomb nor make us read a local file or a URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from lxml import etree

from monitor.errors import MonitorError


class OpmlError(MonitorError):
    """An OPML file that cannot be imported; nothing was changed."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Outline:
    """One feed of an OPML file: its title, feed URL, web page and the folders it sits in (outermost first)."""

    title: str
    xml_url: str
    html_url: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NewFeed:
    """A feed to add to the config file as a [[feed]] table."""

    name: str
    url: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import does: the feeds it adds, and the outlines it leaves out with the reason."""

    added: tuple[NewFeed, ...]
    skipped: tuple[tuple[Outline, str], ...]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


def parse_opml(data: bytes, source: str = "OPML file") -> list[Outline]:
    """The feeds of an OPML document, in document order. Raises OpmlError when the file is not XML, not OPML,
    has no feed outlines, or names a feed with a URL that is not http(s) (``javascript:``, ``file:``...)."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"{source}: not an OPML file: the XML does not parse ({exc})") from exc
    if root is None or not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        raise OpmlError(f"{source}: not an OPML file: the root element is not <opml>")
    body = next((child for child in root if _local(child) == "body"), None)
    if body is None:
        raise OpmlError(f"{source}: not an OPML file: it has no <body>")
    found = list(_outlines(body, ()))
    if not found:
        raise OpmlError(f"{source}: no feed outlines (no <outline> with an xmlUrl)")
    for outline in found:
        scheme = urlsplit(outline.xml_url).scheme.lower()
        if scheme not in ("http", "https") or not urlsplit(outline.xml_url).hostname:
            raise OpmlError(
                f"{source}: outline {outline.title!r} has feed URL {outline.xml_url[:80]!r}; "
                "only http:// and https:// feeds can be imported"
            )
    return found


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname.lower() if isinstance(element.tag, str) else ""


def _outlines(parent: etree._Element, folders: tuple[str, ...]) -> Iterable[Outline]:
    for element in parent:
        if _local(element) != "outline":
            continue
        label = _attribute(element, "title") or _attribute(element, "text")
        xml_url = _attribute(element, "xmlUrl")
        if xml_url:
            tags = folders + _categories(_attribute(element, "category"))
            yield Outline(
                title=label or xml_url,
                xml_url=xml_url,
                html_url=_attribute(element, "htmlUrl"),
                tags=tuple(dict.fromkeys(tags)),
            )
        # A folder's children carry its name as a tag; a feed's children (rare) keep the feed's folders.
        inner = folders if xml_url or not label else (*folders, tag_name(label))
        yield from _outlines(element, tuple(tag for tag in inner if tag))


def _attribute(element: etree._Element, name: str) -> str | None:
    for key, value in element.attrib.items():
        if str(key).lower() == name.lower():
            text = str(value).strip()
            return text or None
    return None


def _categories(value: str | None) -> tuple[str, ...]:
    """OPML 2.0 ``category="/News/Turkey,/Defence"``: every path part becomes a tag."""
    if not value:
        return ()
    parts = [part for path in value.split(",") for part in path.split("/")]
    return tuple(tag for tag in (tag_name(part) for part in parts) if tag)


def tag_name(label: str) -> str:
    """A folder label as a tag: lower case, runs of other characters as one dash ("Middle East" -> "middle-east")."""
    return re.sub(r"[^\w]+", "-", label.strip().lower()).strip("-")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


def same_feed_url(url: str) -> str:
    """A URL reduced for comparing feeds: scheme and host in lower case, no fragment, no trailing slash."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{(parts.hostname or '').lower()}{':' + str(parts.port) if parts.port else ''}{path}{query}"


def unique_name(wanted: str, taken: set[str]) -> str:
    """``wanted`` or, when taken, ``wanted-2``, ``wanted-3``...; the result is added to ``taken``."""
    name, number = wanted, 2
    while name in taken:
        name, number = f"{wanted}-{number}", number + 1
    taken.add(name)
    return name


def plan_import(outlines: Sequence[Outline], names: Iterable[str], urls: Iterable[str]) -> ImportPlan:
    """Which outlines become new feeds, given the feed names and URLs already configured: a URL already there
    (or twice in the file) is skipped, and each new feed gets a unique name made from its title."""
    taken = set(names)
    known = {same_feed_url(url) for url in urls}
    added: list[NewFeed] = []
    skipped: list[tuple[Outline, str]] = []
    for outline in outlines:
        key = same_feed_url(outline.xml_url)
        if key in known:
            skipped.append((outline, "already configured"))
            continue
        known.add(key)
        wanted = _slug(outline.title) or _slug(urlsplit(outline.xml_url).hostname or "") or "feed"
        added.append(NewFeed(unique_name(wanted, taken), outline.xml_url, outline.tags))
    return ImportPlan(tuple(added), tuple(skipped))


@dataclass(frozen=True, slots=True)
class ExportedFeed:
    name: str
    url: str
    tags: tuple[str, ...] = ()


def export_opml(feeds: Sequence[ExportedFeed], now: datetime, title: str = "monitor feeds") -> str:
    """OPML 2.0 of the feeds: feeds with tags sit in a folder named after their first tag, with every tag in
    ``category``; the others at the top level."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateCreated").text = format_datetime(now)
    body = etree.SubElement(root, "body")
    folders: dict[str, etree._Element] = {}
    for feed in feeds:
        parent = body
        if feed.tags:
            folder = folders.get(feed.tags[0])
            if folder is None:
                folder = folders[feed.tags[0]] = etree.SubElement(body, "outline", text=feed.tags[0])
            parent = folder
        attributes = {"type": "rss", "text": feed.name, "title": feed.name, "xmlUrl": feed.url}
        if feed.tags:
            attributes["category"] = ",".join(f"/{tag}" for tag in feed.tags)
        etree.SubElement(parent, "outline", attributes)
    document: bytes = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    return document.decode("utf-8")
