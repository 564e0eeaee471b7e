"""The fast parsing path against feedparser, the reference: same entries on every feed, or the fallback is taken.

Each defence (entity expansion, external entities, huge documents, deep nesting, invalid encodings) is run on
both paths, and both must give the same bounded outcome, with the fast path recording why it stood aside.
"""

from __future__ import annotations

import dataclasses
import io
import re
import sys
from pathlib import Path

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor import feeds_fast
from monitor.errors import FeedParseError
from monitor.feeds import MAX_DECOMPRESSED, _plain, _TextOnly, parse_feed, parse_feed_fast
from monitor.models import ParsedFeed
from tests.feed_documents import FEED_URL, corpus_feed_files, rss


def atom(entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title>'
        f"<id>urn:f</id><updated>2026-11-02T10:00:00Z</updated>{entries}</feed>"
    ).encode()


# Feeds of our own: the shapes the hand-made tests and the benchmark farm use, each a case of the mapping.
OWN_FEEDS = {
    "rss": rss(
        "<item><title>Rates &amp; &lt;b&gt;banks&lt;/b&gt;</title><link>/2026/rates?utm_source=rss&amp;id=7</link>"
        "<guid isPermaLink='false'>g-1</guid><description>&lt;p&gt;Central bank&lt;/p&gt;</description>"
        "<pubDate>Mon, 02 Nov 2026 12:30:00 +0200</pubDate><author>ed@example.org (Ed)</author></item>"
        "<item><title>Guid only</title><guid>https://example.org/g2</guid></item>"
        "<item><title>Not a permalink</title><guid isPermaLink='false'>https://example.org/g3</guid></item>"
        "<item><title>Bare</title><description>Only text</description></item>"
    ),
    "rss-content-first": rss(
        "<item xmlns:content='http://purl.org/rss/1.0/modules/content/'><title>C</title>"
        "<link>https://example.org/c</link><content:encoded>&lt;p&gt;Full&lt;/p&gt;</content:encoded>"
        "<description>Short</description><dc:date xmlns:dc='http://purl.org/dc/elements/1.1/'>"
        "2026-11-02T10:00:00Z</dc:date></item>"
    ),
    "atom": atom(
        '<entry><title type="html">A &amp;amp; B</title><id>urn:e:1</id><link href="https://example.org/e1"/>'
        '<updated>2026-11-02T09:00:00-05:00</updated><content type="html">&lt;p&gt;Body&lt;/p&gt;</content></entry>'
        "<entry><title>Id is the link</title><id>https://example.org/e2</id><summary>S</summary>"
        "<published>2026-11-01T08:00:00Z</published><updated>2026-11-02T08:00:00Z</updated></entry>"
    ),
    "atom-xhtml": atom(
        '<entry><title>X</title><id>urn:e:3</id><link href="https://example.org/e3"/>'
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi <b>there</b></p></div></content>'
        "</entry>"
    ),
    "atom-xhtml-prefixed": atom(
        '<entry><title>P</title><id>urn:e:4</id><link href="https://example.org/e4"/>'
        '<summary type="xhtml"><x:div xmlns:x="http://www.w3.org/1999/xhtml"><x:p>Sum <x:i>it</x:i></x:p>'
        "<x:ul><x:li>one</x:li><x:li>two</x:li></x:ul>tail &amp; more<x:br/>end</x:div></summary></entry>"
    ),
    "atom-xhtml-title": atom(
        '<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">T <b>i</b></div></title>'
        '<id>urn:e:5</id><link href="https://example.org/e5"/><summary>S</summary></entry>'
    ),
    "atom-xhtml-svg": atom(
        '<entry><title>S</title><id>urn:e:6</id><link href="https://example.org/e6"/>'
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Drawn</p>'
        '<svg xmlns="http://www.w3.org/2000/svg"><text>label</text></svg></div></content></entry>'
    ),
    "atom-xhtml-src": atom(
        '<entry><title>O</title><id>urn:e:8</id><link href="https://example.org/e8"/>'
        '<content type="xhtml" src="https://example.org/body.xhtml"/></entry>'
    ),
    "atom-pdf": atom(
        '<entry><title>F</title><id>urn:e:9</id><link href="https://example.org/e9"/>'
        '<content type="application/pdf">JVBERi0=</content></entry>'
    ),
    "atom-xhtml-two-divs": atom(
        '<entry><title>W</title><id>urn:e:10</id><link href="https://example.org/e10"/>'
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">One</div>'
        '<div xmlns="http://www.w3.org/1999/xhtml">Two</div></content></entry>'
    ),
    "atom-xhtml-text-beside-div": atom(
        '<entry><title>L</title><id>urn:e:11</id><link href="https://example.org/e11"/>'
        '<content type="xhtml">Lead <div xmlns="http://www.w3.org/1999/xhtml">Body</div></content></entry>'
    ),
    "atom-xhtml-src-and-div": atom(
        '<entry><title>S</title><id>urn:e:12</id><link href="https://example.org/e12"/>'
        '<content type="xhtml" src="https://example.org/body.xhtml">'
        '<div xmlns="http://www.w3.org/1999/xhtml">Inline too</div></content></entry>'
    ),
    "atom-xhtml-no-div": atom(
        '<entry><title>N</title><id>urn:e:7</id><link href="https://example.org/e7"/>'
        '<content type="xhtml"><p xmlns="http://www.w3.org/1999/xhtml">No wrapper</p></content></entry>'
    ),
    "rdf": (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b'<channel rdf:about="https://example.org/"><title>RDF</title><link>https://example.org/</link>'
        b"<description>d</description></channel>"
        b'<item rdf:about="https://example.org/r1"><title>R1</title><link>https://example.org/r1</link>'
        b"<dc:date>2026-11-02T10:00:00+01:00</dc:date><description>One</description></item>"
        b"</rdf:RDF>"
    ),
    "relative-link-under-base": rss(
        "<item xml:base='https://other.example.org/dir/'><title>T</title><link>page</link></item>"
    ),
    "unescaped-ampersand": rss("<item><title>A & B</title><link>https://example.org/a?x=1&y=2</link></item>"),
}


def outcome(body: bytes, *, fast: bool) -> ParsedFeed | str:
    try:
        return parse_feed(body, url=FEED_URL, fast=fast)
    except FeedParseError as error:
        return f"error: {error.reason}"


def comparable(feed: ParsedFeed) -> tuple[str, list[tuple[object, ...]]]:
    """What must agree between the paths: entry keys, links, titles, published dates and summaries."""
    return feed.title, [(e.key, e.url, e.title, e.published, e.summary) for e in feed.entries]


def assert_same_as_reference(body: bytes) -> ParsedFeed | str:
    reference = outcome(body, fast=False)
    got = outcome(body, fast=True)
    if isinstance(got, ParsedFeed) and got.parser == "fast":
        assert isinstance(reference, ParsedFeed), reference
        assert comparable(got) == comparable(reference)
        assert got.fallback is None
    elif isinstance(got, ParsedFeed) and got.parser == "feedparser":
        assert got.fallback  # the reason the fast path stood aside is recorded
        assert dataclasses.replace(got, fallback=None) == reference
    else:
        assert got == reference  # JSON Feeds and errors are the same code on both paths
    return got


@pytest.mark.parametrize("path", corpus_feed_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_feed_matches_the_reference_or_falls_back(path: Path) -> None:
    assert_same_as_reference(path.read_bytes())


def test_most_real_feeds_take_the_fast_path() -> None:
    parsers = [assert_same_as_reference(p.read_bytes()) for p in corpus_feed_files()]
    fast = [p for p in parsers if isinstance(p, ParsedFeed) and p.parser == "fast"]
    assert len(fast) >= 125  # of 206 files, of which 40 are errors, JSON or HTML whatever the parser


@pytest.mark.parametrize("name", sorted(OWN_FEEDS))
def test_own_feeds_match_the_reference_or_fall_back(name: str) -> None:
    assert_same_as_reference(OWN_FEEDS[name])


def test_plain_feeds_take_the_fast_path() -> None:
    for name in ("rss", "rss-content-first", "atom", "rdf", "atom-xhtml", "atom-xhtml-prefixed"):
        feed = parse_feed(OWN_FEEDS[name], url=FEED_URL)
        assert (name, feed.parser) == (name, "fast")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("atom-xhtml-title", "xhtml-typed title in an entry"),
        ("atom-xhtml-svg", "xhtml-typed content in an entry"),
        ("atom-xhtml-no-div", "xhtml-typed content in an entry"),
        ("atom-xhtml-src", "xhtml-typed content in an entry"),
        ("atom-pdf", "application/pdf-typed content in an entry"),
        ("atom-xhtml-two-divs", "xhtml-typed content in an entry"),
        ("atom-xhtml-text-beside-div", "xhtml-typed content in an entry"),
        ("atom-xhtml-src-and-div", "xhtml-typed content in an entry"),
        ("relative-link-under-base", "a relative link under xml:base"),
        ("unescaped-ampersand", "not well-formed XML"),
    ],
)
def test_what_the_fast_path_leaves_to_feedparser(name: str, reason: str) -> None:
    feed = parse_feed(OWN_FEEDS[name], url=FEED_URL)
    assert feed.parser == "feedparser"
    assert feed.fallback and feed.fallback.startswith(reason)


def test_fewer_entries_than_item_elements_falls_back() -> None:
    nested = rss(
        "<item><title>Outer</title><link>https://example.org/o</link>"
        "<item><title>Inner</title><link>https://example.org/i</link></item></item>"
    )
    result = feeds_fast.parse_vetted(nested)
    assert isinstance(result, str)
    assert assert_same_as_reference(nested)


def latin1_feed(title: str = "Caf\xe9") -> bytes:
    latin = rss(f"<item><title>{title}</title><link>https://e.org/a</link></item>", prolog="")
    return b'<?xml version="1.0" encoding="iso-8859-1"?>' + latin.decode().encode("latin-1")


def test_documents_in_their_declared_encoding_take_the_fast_path() -> None:
    feed = assert_same_as_reference(latin1_feed())
    assert isinstance(feed, ParsedFeed) and feed.parser == "fast" and feed.fallback is None
    assert feed.entries[0].title == "Café"
    cyrillic = (
        '<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>Новости</title>'
        "<item><title>Погода</title><link>https://e.org/p</link><description>Снег</description></item>"
        "</channel></rss>"
    ).encode("windows-1251")
    feed = assert_same_as_reference(cyrillic)
    assert isinstance(feed, ParsedFeed) and feed.parser == "fast"
    assert (feed.title, feed.entries[0].title, feed.entries[0].summary) == ("Новости", "Погода", "Снег")


def test_another_charset_in_the_content_type_is_left_to_feedparser() -> None:
    body = latin1_feed()
    headers = {"Content-Type": "application/rss+xml; charset=windows-1252"}
    feed = parse_feed(body, url=FEED_URL, headers=headers)
    assert feed.parser == "feedparser" and feed.fallback == "encoded as iso-8859-1"
    same = parse_feed(body, url=FEED_URL, headers={"content-type": "application/xml; charset=latin1"})
    assert same.parser == "fast" and comparable(same) == comparable(feed)


def test_a_declared_encoding_over_utf8_bytes_is_left_to_feedparser() -> None:
    body = b'<?xml version="1.0" encoding="iso-8859-1"?>' + rss(
        "<item><title>Caf\u00e9</title><link>https://e.org/a</link></item>", prolog=""
    )
    feed = assert_same_as_reference(body)
    assert (
        isinstance(feed, ParsedFeed)
        and feed.fallback == "encoded as iso-8859-1, in bytes that are also UTF-8"
    )
    assert feed.entries[0].title == "Café"  # UTF-8, as the pipeline tells feedparser


def test_a_root_element_in_another_namespace_is_left_to_feedparser() -> None:
    body = rss("<item><title>T</title><link>https://e.org/t</link></item>").replace(
        b'<rss version="2.0">', b'<rss version="2.0" xmlns="http://backend.userland.com/rss2">'
    )
    feed = assert_same_as_reference(body)
    assert isinstance(feed, ParsedFeed) and feed.fallback
    assert feed.fallback.startswith("root element in the namespace http://backend.userland.com/rss2")


# ---- the defences, on both paths ----------------------------------------------------------------------------


def both_paths(body: bytes) -> tuple[ParsedFeed | str, ParsedFeed | str]:
    got = assert_same_as_reference(body)
    return got, outcome(body, fast=False)


def test_entity_bomb_same_bounded_outcome_on_both_paths() -> None:
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{lol}]>'
        '<rss version="2.0"><channel><title>&lol9;</title>'
        "<item><title>Bomb &lol9;</title><link>https://example.org/a</link></item></channel></rss>"
    ).encode()
    assert feeds_fast.parse_vetted(body) == "the document declares entities"
    for feed in both_paths(body):
        assert isinstance(feed, ParsedFeed)
        assert len(feed.title) < 1000 and all(len(e.title) < 1000 for e in feed.entries)


def test_external_entity_same_outcome_on_both_paths(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        '<rss version="2.0"><channel><title>x</title>'
        "<item><title>a &xxe;</title><link>https://example.org/a</link></item></channel></rss>"
    ).encode()
    assert feeds_fast.parse_vetted(body) == "the document declares entities"
    for feed in both_paths(body):
        assert isinstance(feed, ParsedFeed)
        assert all("TOP-SECRET" not in e.title + e.summary for e in feed.entries)


def test_external_dtd_is_never_fetched() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://127.0.0.1:9/rss.dtd">'
        b'<rss version="2.0"><channel><title>x</title><item><title>a</title>'
        b"<link>https://example.org/a</link></item></channel></rss>"
    )
    fast, reference = both_paths(body)
    assert isinstance(fast, ParsedFeed) and fast.fallback and "network entity" in fast.fallback
    assert isinstance(reference, ParsedFeed) and reference.entries[0].title == "a"


def test_document_over_the_size_bound_is_refused_on_both_paths() -> None:
    body = rss("<item><title>A</title></item>") + b" " * MAX_DECOMPRESSED
    fast, reference = both_paths(body)
    assert fast == reference == f"error: feed larger than {MAX_DECOMPRESSED >> 20} MB"


def test_document_of_exactly_the_size_bound_is_read_on_both_paths() -> None:
    head = rss("<item><title>A</title></item>")
    fast, reference = both_paths(head + b" " * (MAX_DECOMPRESSED - len(head)))
    assert isinstance(fast, ParsedFeed) and [entry.title for entry in fast.entries] == ["A"]
    assert isinstance(reference, ParsedFeed) and [entry.title for entry in reference.entries] == ["A"]


def test_huge_text_node_is_left_to_feedparser() -> None:
    body = rss(
        f"<item><title>A</title><link>https://e.org/a</link><description>{'x' * (11 << 20)}</description></item>"
    )
    fast, reference = both_paths(body)
    assert isinstance(fast, ParsedFeed) and fast.fallback and "Text node too long" in fast.fallback
    assert isinstance(reference, ParsedFeed) and len(reference.entries[0].summary) == 11 << 20


def test_deep_nesting_is_left_to_feedparser() -> None:
    depth = 2000
    body = rss(f"<item><title>A</title><link>https://e.org/a</link>{'<x>' * depth}{'</x>' * depth}</item>")
    fast, reference = both_paths(body)
    assert isinstance(fast, ParsedFeed) and fast.fallback and "depth" in fast.fallback.lower()
    assert isinstance(reference, ParsedFeed) and [e.title for e in reference.entries] == ["A"]


def test_invalid_utf8_same_outcome_on_both_paths() -> None:
    body = rss("<item><title>Caf?</title><link>https://e.org/a</link></item>").replace(b"Caf?", b"Caf\xe9")
    fast, reference = both_paths(body)
    assert isinstance(fast, ParsedFeed) and fast.fallback and "not well-formed XML" in fast.fallback
    assert isinstance(reference, ParsedFeed) and reference.warning


def test_the_fast_path_alone_says_why_it_stands_aside() -> None:
    assert isinstance(parse_feed_fast(OWN_FEEDS["rss"], url=FEED_URL), ParsedFeed)
    assert parse_feed_fast(OWN_FEEDS["unescaped-ampersand"], url=FEED_URL) == (
        parse_feed(OWN_FEEDS["unescaped-ampersand"], url=FEED_URL).fallback
    )
    json_feed = parse_feed_fast(b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', url=FEED_URL)
    assert isinstance(json_feed, ParsedFeed) and json_feed.parser == "json"
    with pytest.raises(FeedParseError, match="empty body"):
        parse_feed_fast(b"  ", url=FEED_URL)


# ---- plain text from markup: the quick tokenizer against HTMLParser --------------------------------------


def text_only(markup: str) -> str:
    """What _plain gives through HTMLParser alone, the reference for its quick path."""
    stripper = _TextOnly()
    stripper.feed(markup)
    stripper.close()
    return " ".join("".join(stripper.parts()).split())


def corpus_markup() -> list[str]:
    found: list[str] = []
    for path in corpus_feed_files():
        parsed = feedparser.parse(io.BytesIO(path.read_bytes()))
        for item in parsed.entries:
            found += [item.get("title", ""), item.get("summary", "")]
            found += [c.get("value", "") for c in item.get("content") or ()]
    return [m for m in found if m]


def test_plain_text_of_every_corpus_title_and_summary_is_htmlparsers() -> None:
    markup = corpus_markup()
    assert len(markup) > 3000
    assert [_plain(m) for m in markup] == [text_only(m) for m in markup]


MARKUP_PIECES = st.sampled_from(
    [
        "text",
        " ",
        "\n",
        "&amp;",
        "&lt;",
        "&#233;",
        "&nbsp;",
        "&bogus",
        "AT&T",
        "<",
        ">",
        "a < b",
        "<p>",
        "</p>",
        "<br/>",
        "<br />",
        "<b>",
        "</b>",
        "<B class='x'>",
        '<a href="/x?a=1&amp;b=2">',
        "</a>",
        "<div\nid=x>",
        "</div >",
        "<script>",
        "</script>",
        "<style>x{}</style>",
        "<!-- c -->",
        "<![CDATA[x]]>",
        "<img src=x alt='a>b'>",
        '<a title="a>b">',
        '<a title="a<b">',  # a "<" inside a plain tag: more "<" than tags, the text between them looked at
        "&amp",  # an entity cut by a tag ("&amp<b>;"): each text piece is unescaped on its own
        ";",
        "\u00a0",
        "\u2003\t",
        "<1>",
        "</>",
        "<a b='c'd>",
        "<x:y z=1>",
        "<li>",
        "<td>",
    ]
)


@given(st.lists(MARKUP_PIECES, max_size=12).map("".join))
def test_plain_text_of_any_markup_is_htmlparsers(markup: str) -> None:
    assert _plain(markup) == text_only(markup)


def test_plain_text_collapses_the_whitespace_the_pattern_knows() -> None:
    """_plain collapses white space with str.split: the same characters as the pattern \\s (every code point)."""
    pattern = re.compile(r"\s")
    assert all(bool(pattern.match(c)) == c.isspace() for c in map(chr, range(sys.maxunicode + 1)))
    spaces = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert _plain(f"{spaces}a{spaces}b&amp;{spaces}") == "a b&"
    assert _plain(f"a{spaces}<p>b</p>") == "a b"


def test_plain_text_of_a_plain_tag_holding_a_less_than_sign() -> None:
    assert _plain('x<a title="1<2">y</a>z') == "xyz"
    assert _plain('x<a title="1<2">y<z') == text_only('x<a title="1<2">y<z')
    comment = "a<!-- <b> -->c"  # no plain tag: HTMLParser reads it
    assert _plain(comment) == text_only(comment) == "ac"


# XHTML text constructs: what the fast path serialises must read as feedparser's serialisation does.
XHTML_PIECES = st.sampled_from(
    [
        "word",
        " ",
        "&amp; &lt;b&gt;",
        "caf\u00e9",
        "<p>para</p>",
        "<br/>",
        "<b>bold <i>both</i></b>",
        '<a href="/rel?a=1&amp;b=2">link</a>',
        "<ul><li>one</li><li>two</li></ul>",
        "<div><span>in</span>after</div>",
        "<h2>Head</h2>",
        '<img src="x.png" alt="a"/>',
        "<table><tr><td>cell</td></tr></table>",
        "<pre>  spaced  </pre>",
        "<blockquote>quoted</blockquote>",
        "\n",
    ]
)


@given(
    st.lists(XHTML_PIECES, max_size=10).map("".join), st.sampled_from(["summary", "content"]), st.booleans()
)
def test_any_xhtml_text_reads_as_feedparser_reads_it(markup: str, element: str, prefixed: bool) -> None:
    if prefixed:
        markup = re.sub(r"<(/?)([a-z][a-z0-9]*)", r"<\1h:\2", markup)
        div = f'<h:div xmlns:h="http://www.w3.org/1999/xhtml">{markup}</h:div>'
    else:
        div = f'<div xmlns="http://www.w3.org/1999/xhtml">{markup}</div>'
    body = atom(
        f'<entry><title>T</title><id>urn:e:1</id><link href="https://example.org/e1"/>'
        f'<{element} type="xhtml">{div}</{element}></entry>'
    )
    feed = assert_same_as_reference(body)
    assert isinstance(feed, ParsedFeed) and feed.parser == "fast"


# Entries with several summary and content elements: the fast path must pick the summary feedparser picks.
SUMMARY_ELEMENTS = {
    "description": "<description>{}</description>",
    "itunes": "<itunes:summary>{}</itunes:summary>",
    "encoded": "<content:encoded>{}</content:encoded>",
    "media": "<media:description>{}</media:description>",
    "group": "<media:group><media:description>{}</media:description></media:group>",
    "dc": "<dc:description>{}</dc:description>",
    "summary": "<summary>{}</summary>",
    "abstract": "<abstract>{}</abstract>",
    "empty": "<description></description>",
    "other": "<other:description>{}</other:description>",
}
NAMESPACES = (
    'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:other="https://example.org/other"'
)
ITEM_SUMMARIES = st.lists(st.sampled_from(sorted(SUMMARY_ELEMENTS)), max_size=5)


def summary_feed(channel: list[str], items: list[list[str]]) -> bytes:
    def elements(names: list[str], prefix: str) -> str:
        return "".join(SUMMARY_ELEMENTS[name].format(f"{prefix} {name} {i}") for i, name in enumerate(names))

    body = "".join(
        f"<item><title>T{n}</title><link>https://example.org/{n}</link>{elements(names, f'item {n}')}</item>"
        for n, names in enumerate(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {NAMESPACES}><channel><title>News</title>'
        f"{elements(channel, 'channel')}{body}</channel></rss>"
    ).encode()


@given(st.lists(ITEM_SUMMARIES, min_size=1, max_size=3))
def test_any_summaries_of_an_entry_read_as_feedparser_reads_them(items: list[list[str]]) -> None:
    feed = assert_same_as_reference(summary_feed([], items))
    assert isinstance(feed, ParsedFeed)
    if not any("other" in names for names in items):
        assert feed.parser == "fast", feed.fallback


@given(ITEM_SUMMARIES, ITEM_SUMMARIES)
def test_what_comes_before_the_first_entry_never_changes_its_summary(
    channel: list[str], item: list[str]
) -> None:
    assert_same_as_reference(summary_feed(channel, [item, item]))


def test_a_summary_after_a_summary_is_content_until_content_was_seen() -> None:
    feed = parse_feed(
        summary_feed([], [["description", "itunes"], ["encoded", "description", "itunes"]]), url=FEED_URL
    )
    assert feed.parser == "fast"
    assert [e.summary for e in feed.entries] == ["item 0 description 0", "item 1 itunes 2"]


def test_a_summary_element_of_another_namespace_saying_the_same_stays_on_the_fast_path() -> None:
    """feedparser keeps one summary of an entry: a summary-named element of a namespace it does not know is left
    alone by the fast path only when it says what the summary says; otherwise feedparser decides."""

    def entry(other: str) -> bytes:
        item = f"<description>Drone cameras</description><other:description>{other}</other:description>"
        return (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {NAMESPACES}><channel><title>N</title>'
            f"<item><title>T</title><link>https://example.org/1</link>{item}</item></channel></rss>"
        ).encode()

    same = assert_same_as_reference(entry("Drone cameras"))
    assert isinstance(same, ParsedFeed) and same.parser == "fast", same.fallback
    other = assert_same_as_reference(entry("Export permits"))
    assert isinstance(other, ParsedFeed) and other.parser == "feedparser"
    assert other.fallback == "several different summaries in an entry"
