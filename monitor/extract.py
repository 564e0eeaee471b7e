"""Article page -> main text and metadata, with trafilatura.

Pure functions meant to run inside worker processes: trafilatura's time and memory grow fast with page size,
and its own timeout only works in its command-line tool, so callers cap the page size when fetching and
give each extraction a time budget in a process they can kill.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from types import ModuleType

from monitor.errors import ExtractError
from monitor.models import FetchResult, Page

HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL
)
_HEAD_TAG = re.compile(r"<(?:link|meta)\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([a-zA-Z:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_LANG_ATTRIBUTE = re.compile(r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)""", re.I)


def is_html(result: FetchResult) -> bool:
    """Whether a fetched body is an HTML page worth extracting (by its header, else by its first bytes)."""
    content_type = result.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type:
        return content_type in HTML_TYPES
    return looks_like_html(result.body)


def looks_like_html(body: bytes) -> bool:
    """Whether a body starts as an HTML page does (after a BOM, white space and comments)."""
    return bool(_HTML_START.match(body[:2048].removeprefix(b"\xef\xbb\xbf")))


def page_markup(result: FetchResult) -> str | bytes:
    """The markup to extract from: text decoded with the header's charset, else the raw bytes.

    Given bytes, trafilatura ignores the HTTP charset and detects one itself, which is what we want when
    the header names no charset, an unknown one, or one the bytes prove wrong. Non-ASCII bytes that decode
    as UTF-8 are UTF-8 whatever the header says: labels lie far more often than that happens by chance.
    """
    body = result.body
    charset = result.text_charset
    if not charset:
        return body
    if not body.isascii():
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return body.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return body


def _trafilatura() -> ModuleType:
    """trafilatura, imported on first use: only worker processes extract, and it is large (about 35 MB)."""
    import trafilatura

    return trafilatura


def warm_up() -> None:
    """Pay trafilatura's first-call cost (about 180 ms) up front, e.g. as a worker process initializer."""
    html = (
        "<html><body><article><p>" + "Warm-up text for the extractor. " * 20 + "</p></article></body></html>"
    )
    _trafilatura().bare_extraction(html, url="https://example.org/", with_metadata=True)


def extract_page(html: str | bytes, url: str) -> Page:
    """The main text and metadata of an article page; ExtractError when there is no main text."""
    if not html or not html.strip():
        raise ExtractError(url, "empty page")
    try:
        document = _trafilatura().bare_extraction(html, url=url, with_metadata=True)
    except Exception as exc:  # trafilatura and lxml on hostile markup: any crash means "no text"
        raise ExtractError(url, f"extraction failed: {type(exc).__name__}: {exc}") from exc
    text = _field(document, "text")
    if not text:
        raise ExtractError(url, "no main text found")
    return Page(
        text=text,
        title=_field(document, "title"),
        author=_field(document, "author"),
        published=_parse_date(_field(document, "date")),
        sitename=_field(document, "sitename"),
        language=_declared_language(html),
        canonical=declared_canonical(html),
    )


def _field(document: object, name: str) -> str | None:
    """A metadata field as stripped text (Document objects, or dicts from older trafilatura versions)."""
    value = document.get(name) if isinstance(document, dict) else getattr(document, name, None)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _parse_date(value: str | None) -> datetime | None:
    """trafilatura gives dates as YYYY-MM-DD; midnight UTC of that day."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _declared_language(html: str | bytes) -> str | None:
    """The page's own `<html lang=...>`: trafilatura only detects a language when told to filter by one."""
    head = html[:8192]
    text = head.decode("ascii", errors="ignore") if isinstance(head, bytes) else head
    match = _LANG_ATTRIBUTE.search(text)
    return match.group(1).lower() if match else None


def declared_canonical(html: str | bytes) -> str | None:
    """The page's ``<link rel="canonical" href>``, else its ``og:url``, as written (from the first 64 KB).

    A cheap scan of the head's tags: a full parse for two attributes would cost more than the rest of the
    metadata. The caller decides whether the address is on the same site and may be trusted."""
    head = html[:65536]
    text = head.decode("utf-8", errors="ignore") if isinstance(head, bytes) else head
    og_url: str | None = None
    for tag in _HEAD_TAG.finditer(text):
        attributes = {
            m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
            for m in _ATTRIBUTE.finditer(tag.group(0))
        }
        if tag.group(0)[1:5].lower() == "link" and "canonical" in attributes.get("rel", "").lower().split():
            href = attributes.get("href", "").strip()
            if href:
                return href
        elif attributes.get("property", "").lower() == "og:url" and og_url is None:
            og_url = attributes.get("content", "").strip() or None
    return og_url
