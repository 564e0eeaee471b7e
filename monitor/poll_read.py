"""The CPU work of a poll that needs no database: reading a fetched feed, extracting a page, and telling the
language and the story fingerprint of each article. It runs in the worker processes (``Pipeline`` sends it there), so that the main
process, which alone talks to the network and the store, only does what nothing else can.

Measured on the 1,000-feed cold cycle of the corpus farm (docs/benchmarks.md): the main process was the
cycle's bottleneck, with both workers idle, and parsing plus language detection were over half of its CPU.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Callable, Mapping
from dataclasses import replace

from monitor import stories
from monitor.match.language import detect_language
from monitor.models import Entry, Page, ParsedFeed

MAX_TITLE = 2000  # characters; a title is a line in an alert, not a place for a whole article
# What stands in for the language and the fingerprint of an entry the feed's last read already told: never a
# language code, never a packed fingerprint.
UNTOLD_LANGUAGE = ""
UNTOLD_FINGERPRINT = b""
_DIGEST = "I"  # an array's type code: unsigned, 4 bytes


def capped_title(title: str, summary: str) -> tuple[str, str]:
    """A title over MAX_TITLE characters is cut at a space and ends with "…"; the rest of it starts the
    summary, so none of its words is lost to matching or to the stored article."""
    if len(title) <= MAX_TITLE:
        return title, summary
    cut = title.rfind(" ", MAX_TITLE // 2, MAX_TITLE)
    cut = cut if cut > 0 else MAX_TITLE - 1
    rest = "…" + title[cut:].strip()
    return title[:cut].rstrip() + "…", f"{rest}\n\n{summary}" if summary else rest


def entry_language(entry: Entry) -> str | None:
    """The language of an article made from ``entry`` alone (no page text): what the pipeline stores."""
    return detect_language(*capped_title(entry.title, entry.summary))


def entry_story_text(entry: Entry) -> str:
    """What an article made from ``entry`` alone (no page text) is clustered on: its capped title and summary."""
    return stories.clustering_text(*capped_title(entry.title, entry.summary), "")


def packed_fingerprint(text: str) -> bytes | None:
    """``stories.fingerprint`` of ``text``, packed (``stories.pack_fingerprint``); None for a text too short."""
    fingerprint = stories.fingerprint(text)
    return None if fingerprint is None else stories.pack_fingerprint(fingerprint)


def entry_digest(entry: Entry) -> int:
    """A checksum of an entry's key and of what its language and story fingerprint are worked out from, its
    title and summary: a new entry is told even when its text is an old one's (a story posted again under another
    link). Two entries with one checksum cost only time: the entry's language and fingerprint are then worked out
    later, one at a time (``Pipeline._entry_language``, ``poll.article_fingerprint``)."""
    return zlib.crc32(f"{entry.key}\x00{entry.title}\x00{entry.summary}".encode("utf-8", "surrogatepass"))


def pack_digests(digests: list[int]) -> bytes:
    return array(_DIGEST, digests).tobytes()


def unpack_digests(packed: bytes) -> set[int]:
    digests = array(_DIGEST)
    digests.frombytes(packed)
    return set(digests)


def read_feed(
    body: bytes, url: str, headers: Mapping[str, str], entry_details: bool = True, told: bytes = b""
) -> ParsedFeed:
    """``feeds.parse_feed``, with the language and the story fingerprint of each entry's title and summary
    beside its entries when ``entry_details`` (``entry_details_wanted``: not for a full-text feed, whose new
    entries are read, detected and fingerprinted with their page's text).

    ``told``: the digests of the feed's last read (``ParsedFeed.digests``). An entry whose key, title and summary
    are among them is stored already, unless that read's poll failed: its language and fingerprint are left
    untold.
    A changed feed comes back with most of its entries unchanged, and telling them all again was most of the
    worker's time after the parse (docs/benchmarks.md)."""
    # Here, not at the top: the main process imports this module for the names of its functions and never
    # reads a feed itself; feedparser and fastfeedparser (with lxml's objects) were 7 MB of its memory. The
    # workers' fork server loads them before any task (runtime.FEED_PRELOAD).
    from monitor import feeds

    parsed = feeds.parse_feed(body, url=url, headers=headers)
    if not entry_details:
        return parsed
    digests = [entry_digest(entry) for entry in parsed.entries]
    known = unpack_digests(told) if told else set()
    untold = [digest in known for digest in digests]
    return replace(
        parsed,
        languages=tuple(
            UNTOLD_LANGUAGE if skip else entry_language(entry)
            for entry, skip in zip(parsed.entries, untold, strict=True)
        ),
        fingerprints=tuple(
            UNTOLD_FINGERPRINT if skip else packed_fingerprint(entry_story_text(entry))
            for entry, skip in zip(parsed.entries, untold, strict=True)
        ),
        digests=pack_digests(digests),
    )


def entry_details_wanted(fulltext: bool) -> bool:
    """Whether a feed's read tells the language and the story fingerprint of every entry. Not for a full-text
    feed: its new and changed entries take those of the article their page makes (``extract_reading``), and
    most entries of a feed are neither, so that telling them all cost a full-text cycle 6,000 detections (0.7 s
    of CPU), each reading its pages of the model in, for the few entries whose page is not read
    (``entry_language`` then, one at a time; their fingerprint is worked out in the main process)."""
    return not fulltext


def extract_reading(
    extractor: Callable[[str | bytes, str], Page], markup: str | bytes, url: str, title: str, summary: str
) -> tuple[Page, str | None]:
    """The extracted page, and the language of the article it makes with an entry's title and summary
    (the page's title standing in for a missing one), as the pipeline builds that article."""
    page = extractor(markup, url)
    capped, rest = capped_title(title or page.title or "", summary)
    return page, detect_language(capped, rest, page.text)
