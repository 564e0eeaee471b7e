"""Google News links -> the publisher's URL. Pure functions of strings, like ``urls``.

Google News RSS links to ``news.google.com/rss/articles/<id>`` (or ``/articles/<id>``). The older ids are
base64url protobuf messages that carry the publisher's URL as a length-delimited field (they begin ``CBMi``);
those decode offline. Newer ones carry an opaque token (``AU_yqL...``) instead: only a request to Google can
say where they lead, and the pipeline then follows the link's redirect with its own fetcher.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

HOSTS = frozenset({"news.google.com"})
PATH_PREFIXES = ("/rss/articles/", "/articles/", "/__i/rss/rd/articles/")
OPAQUE_PREFIX = b"AU_yqL"


# Characters urlsplit drops wherever they are in a URL: a host split by one is still that host.
_DROPPED_BY_URLSPLIT = str.maketrans("", "", "\t\r\n")


def is_google_news(url: str | None) -> bool:
    """Whether ``url`` is a Google News article link (the wrapper, not a publisher's page)."""
    if not url or not _names_google_news_host(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (parts.hostname or "").lower() in HOSTS and parts.path.startswith(PATH_PREFIXES)


def _names_google_news_host(url: str) -> bool:
    """Whether a Google News host is written in ``url`` at all, case aside: the test of every entry's link,
    cheaper than parsing it, since a URL's host is always part of its text (once urlsplit's dropped characters
    are gone)."""
    text = url.lower()
    if "\t" in text or "\r" in text or "\n" in text:
        text = text.translate(_DROPPED_BY_URLSPLIT)
    return any(host in text for host in HOSTS)


def article_id(url: str) -> str:
    """The id segment of a Google News article link."""
    path = urlsplit(url).path
    for prefix in PATH_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :].split("/")[0]
    return ""


def decode(url: str) -> tuple[str | None, str | None]:
    """The publisher's URL carried by a Google News link, or None with the reason it cannot be had offline
    (``needs_request`` tells the two cases apart: an opaque id may still be resolved by following it)."""
    data = _base64url(article_id(url))
    if data is None:
        return None, "the Google News id is not base64"
    for value in _length_delimited(data):
        if value.startswith((b"http://", b"https://")):
            return value.decode("utf-8", errors="replace"), None
        if value.startswith(OPAQUE_PREFIX):
            return None, NEEDS_REQUEST
    return None, "the Google News id carries no publisher URL"


NEEDS_REQUEST = "the Google News id is opaque and needs a request to resolve"


def needs_request(reason: str | None) -> bool:
    return reason == NEEDS_REQUEST


def _base64url(text: str) -> bytes | None:
    if not text:
        return None
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None


def _length_delimited(data: bytes) -> list[bytes]:
    """The length-delimited values of a protobuf message's top level, in order; stops at the first malformed
    field (what came before it is still good)."""
    values: list[bytes] = []
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        if key is None:
            break
        wire_type = key & 7
        if wire_type == 0:
            _, position = _varint(data, position)
        elif wire_type == 2:
            length, position = _varint(data, position)
            if length is None or position + length > len(data):
                break
            values.append(data[position : position + length])
            position += length
        elif wire_type == 5:
            position += 4
        elif wire_type == 1:
            position += 8
        else:
            break
        if position < 0:
            break
    return values


def _varint(data: bytes, position: int) -> tuple[int | None, int]:
    value = 0
    shift = 0
    while position < len(data) and shift < 64:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    return None, -1
