"""Feed reading at the edges a mutation pass found unpinned: entries with one field, wide encodings, the
charset parameter among others, and a text/xml label beside a charset. Each case is read on both paths: the
fast path first (feedparser where it falls back) and feedparser alone."""

from __future__ import annotations

import pytest

from monitor.errors import FeedParseError
from monitor.feeds import NOT_A_FEED_BUT_HTML, parse_feed
from monitor.models import ParsedFeed
from tests.feed_documents import FEED_URL, rss

BOTH_PATHS = pytest.mark.parametrize("fast", [True, False], ids=["fast-first", "feedparser"])


def parse(body: bytes, *, fast: bool, headers: dict[str, str] | None = None) -> ParsedFeed:
    return parse_feed(body, url=FEED_URL, headers=headers, fast=fast)


@BOTH_PATHS
@pytest.mark.parametrize(
    ("item", "kept"),
    [
        ("<link>https://example.org/only-a-link</link>", "https://example.org/only-a-link"),
        ("<guid isPermaLink='false'>tag:example.org,2026:7</guid>", None),
        ("<title>Only a title</title>", None),
        ("<description>Only a summary</description>", None),
    ],
    ids=["link", "guid", "title", "summary"],
)
def test_an_entry_with_any_one_field_is_kept(fast: bool, item: str, kept: str | None) -> None:
    """An item with nothing but its link (or its guid, title or summary) is news; an empty item is debris."""
    feed = parse(rss(f"<item>{item}</item><item></item>"), fast=fast)
    assert len(feed.entries) == 1
    if kept is not None:
        assert feed.entries[0].url == kept


UTF16_FEED = (
    '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><title>Haberler</title>'
    "<item><title>Türkiye'ye ihracat izni</title><link>https://example.org/izin</link></item>"
    "</channel></rss>"
)


@BOTH_PATHS
@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"], ids=["bom", "le", "be"])
def test_a_utf16_feed_keeps_its_zero_bytes(fast: bool, codec: str) -> None:
    """Zero bytes are part of UTF-16 characters: only a stray NUL in a byte encoding becomes a space."""
    body = UTF16_FEED.encode(codec)
    feed = parse(body, fast=fast)
    assert feed.title == "Haberler"
    assert [entry.title for entry in feed.entries] == ["Türkiye'ye ihracat izni"]


@BOTH_PATHS
def test_a_stray_nul_in_a_utf8_feed_is_a_space(fast: bool) -> None:
    feed = parse(
        rss("<item><title>Wescam\x00sensors</title><link>https://example.org/a</link></item>"), fast=fast
    )
    assert feed.entries[0].title == "Wescam sensors"


WINDOWS_1251 = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Новости</title>'
    "<item><title>Байрактар и Wescam</title><link>https://example.org/b</link></item></channel></rss>"
).encode("windows-1251")


@BOTH_PATHS
@pytest.mark.parametrize(
    "content_type",
    [
        "application/rss+xml; charset=windows-1251",
        "application/rss+xml; type=feed; charset=windows-1251",
        "application/rss+xml; charset=windows-1251; type=feed",
        "text/xml; charset=windows-1251",
        "text/xml; format=x; charset=windows-1251",
    ],
)
def test_the_charset_parameter_is_found_among_others(fast: bool, content_type: str) -> None:
    """A body in a byte encoding its XML declaration does not name is read in the header's charset, wherever
    the charset stands among the parameters, text/xml included."""
    feed = parse(WINDOWS_1251, fast=fast, headers={"Content-Type": content_type})
    assert feed.title == "Новости"
    assert feed.entries[0].title == "Байрактар и Wescam"


DECLARED_1251 = WINDOWS_1251.replace(
    b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="windows-1251"?>'
)


@pytest.mark.parametrize(
    ("content_type", "read_fast"),
    [
        ("application/rss+xml; charset=windows-1251", True),
        ("application/rss+xml; type=feed; charset=windows-1251", True),
        ("application/rss+xml; type=feed", True),  # another parameter's value is no charset
        ("application/rss+xml; charset=", True),  # an empty charset names nothing: the declaration decides
        ("application/rss+xml; charset=koi8-r", False),  # the header disagrees: feedparser decides
    ],
)
def test_the_fast_path_reads_a_declared_charset_unless_the_header_names_another(
    content_type: str, read_fast: bool
) -> None:
    parsed = parse(DECLARED_1251, fast=True, headers={"Content-Type": content_type})
    assert (parsed.parser == "fast") is read_fast, parsed.fallback
    if read_fast:
        assert parsed.entries[0].title == "Байрактар и Wescam"


XHTML_PAGE = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Export permits</title>'
    b'<link rel="alternate" type="application/rss+xml" href="http://purl.org/rss/1.0/"/></head>'
    b"<body><p>A page, not a feed.</p></body></html>"
)


@BOTH_PATHS
def test_an_xhtml_page_behind_an_xml_declaration_is_named_a_page(fast: bool) -> None:
    """A page that declares itself XML and names a feed format's address goes to feedparser, which finds no
    feed in it: the error still says it is a web page and how to find its feed."""
    with pytest.raises(FeedParseError) as caught:
        parse(XHTML_PAGE, fast=fast)
    assert caught.value.reason == NOT_A_FEED_BUT_HTML


@BOTH_PATHS
def test_comments_and_processing_instructions_inside_an_item_are_skipped(fast: bool) -> None:
    item = "<item><!-- a note --><title>Wescam sensors</title><?render fast?><link>https://example.org/c</link></item>"
    feed = parse(rss(item), fast=fast)
    assert feed.parser == ("fast" if fast else "feedparser")
    assert [(entry.title, entry.url) for entry in feed.entries] == [
        ("Wescam sensors", "https://example.org/c")
    ]
