"""Feed parsing on hand-made edge cases and on every feed of the real-world corpus."""

from __future__ import annotations

import dataclasses
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor import feeds
from monitor.errors import FeedParseError
from monitor.feeds import MAX_DECOMPRESSED, canonical_url, parse_feed
from monitor.models import ParsedFeed
from tests.corpus import corpus
from tests.feed_documents import FEED_URL, corpus_feed, corpus_feed_files, rss


def parse(body: bytes, **options: object) -> ParsedFeed:
    return parse_feed(body, url=FEED_URL, **options)  # type: ignore[arg-type]


def parse_error(body: bytes) -> str:
    with pytest.raises(FeedParseError) as caught:
        parse(body)
    assert caught.value.url == FEED_URL
    return caught.value.reason


# ---- the whole corpus ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", corpus_feed_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_file_parses_or_says_why_not(path: Path) -> None:
    try:
        feed = parse_feed(path.read_bytes(), url=f"https://example.org/{path.name}")
    except FeedParseError as error:
        assert error.reason
        return
    for entry in feed.entries:
        assert entry.key
        assert entry.published is None or entry.published.tzinfo is UTC
        assert "<p>" not in entry.summary


def test_real_feeds_yield_their_entries() -> None:
    assert len(parse(corpus_feed("rsparser/DaringFireball.atom")).entries) == 48
    assert len(parse(corpus_feed("rsparser/bio.rdf")).entries) == 30
    assert len(parse(corpus_feed("rsparser/atp.rss")).entries) == 100
    assert len(parse(corpus_feed("feedjira/TechCrunch.xml")).entries) == 20


# ---- charsets ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "text/xml", "text/xml; charset=utf-8"])
def test_iso_8859_1_feed_whatever_the_header_says(header: str | None) -> None:
    headers = {"Content-Type": header} if header else None
    feed = parse(corpus_feed("miniflux-v2/encoding_ISO-8859-1.xml"), headers=headers)
    assert feed.title == "Golem.de"
    assert "Viele Spieler wünschen sich" in feed.entries[0].summary


def test_windows_1251_feed_with_a_lying_utf8_header() -> None:
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    feed = parse(corpus_feed("miniflux-v2/encoding_WINDOWS-1251.xml"), headers=headers)
    assert feed.entries[0].title == "Цитата #17703"
    assert feed.warning and "windows-1251" in feed.warning


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("miniflux-v2-encoding/windows-1252.xml", None),
        ("miniflux-v2-encoding/windows-1252.xml", "text/xml"),
        ("miniflux-v2-encoding/windows-1252.xml", "text/xml; charset=utf-8"),
        ("miniflux-v2-encoding/windows-1252-incorrect-prolog.xml", None),  # UTF-8 bytes, 1252 prolog
        ("miniflux-v2-encoding/windows-1252-incorrect-prolog.xml", "text/xml; charset=iso-8859-1"),
    ],
)
def test_windows_1252_euro_sign(name: str, header: str | None) -> None:
    feed = parse(corpus_feed(name), headers={"content-type": header} if header else None)
    assert feed.title == "Euro €"
    assert feed.entries == ()  # a valid feed without items is not an error


def test_koi8r_feed() -> None:
    feed = parse(corpus_feed("miniflux-v2-encoding/koi8r.xml"))
    assert feed.title == "Пример RSS ленты"
    assert feed.entries[0].title == "Первая новость"


# ---- not feeds --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   \n\t ", b"\xef\xbb\xbf\n"])
def test_empty_body(body: bytes) -> None:
    assert parse_error(body) == "empty body"


def test_html_page() -> None:
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hello</p></body></html>"
    assert (
        parse_error(page)
        == "not a feed: looks like an HTML page (`monitor feeds add URL` finds the feed of a web page; or watch it as a [[page]])"
    )


def test_html_page_from_the_corpus() -> None:
    with pytest.raises(FeedParseError, match="looks like an HTML page"):
        parse(corpus_feed("node-feedparser/notafeed.html"))


def test_plain_xml_that_is_no_feed() -> None:
    assert parse_error(b"<?xml version='1.0'?><catalog><book/></catalog>").startswith("not a feed")


def test_truncated_feed_without_entries() -> None:
    assert parse_error(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Cut').startswith(
        "not a feed"
    )


def test_bytes_are_never_taken_for_a_file_path() -> None:
    assert parse_error(b"/etc/passwd").startswith("not a feed")


def test_entity_bomb_is_not_expanded() -> None:
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{lol}]>'
        '<rss version="2.0"><channel><title>&lol9;</title>'
        "<item><title>Bomb &lol9;</title><link>https://example.org/a</link></item></channel></rss>"
    ).encode()
    try:
        feed = parse(body)
    except FeedParseError:
        return
    assert len(feed.title) < 1000
    assert all(len(entry.title) < 1000 for entry in feed.entries)


def test_external_entity_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        '<rss version="2.0"><channel><title>x</title>'
        "<item><title>a &xxe;</title><link>https://example.org/a</link></item></channel></rss>"
    ).encode()
    try:
        feed = parse(body)
    except FeedParseError:
        return
    assert all("TOP-SECRET" not in e.title + e.summary for e in feed.entries)


# ---- malformed but readable -------------------------------------------------------------------------------


def test_unescaped_ampersand_is_a_warning_not_a_failure() -> None:
    feed = parse(rss("<item><title>A & B</title><link>https://example.org/a?x=1&y=2</link></item>"))
    assert feed.warning and feed.warning.startswith("malformed feed, read anyway")
    assert len(feed.entries) == 1


def test_blank_line_before_the_xml_declaration_is_no_problem() -> None:
    feed = parse(b"\n\n" + rss("<item><title>A</title><link>https://example.org/a</link></item>"))
    assert feed.warning is None
    assert feed.entries[0].title == "A"


# ---- entries ----------------------------------------------------------------------------------------------


def test_entry_fields() -> None:
    feed = parse(
        rss(
            "<item><title>Rates &amp; &lt;b&gt;banks&lt;/b&gt;</title>"
            "<link>/2026/rates?utm_source=rss&amp;id=7#top</link><guid isPermaLink='false'>g-1</guid>"
            "<description>&lt;p&gt;Central  bank&lt;/p&gt;&lt;p&gt;raises&amp;nbsp;rates&lt;/p&gt;"
            "&lt;script&gt;track()&lt;/script&gt;</description>"
            "<pubDate>Mon, 02 Nov 2026 12:30:00 +0200</pubDate><author>ed@example.org (Ed)</author></item>"
        )
    )
    entry = feed.entries[0]
    assert feed.title == "News"
    assert entry.title == "Rates & banks"
    assert entry.summary == "Central bank raises rates"
    assert entry.url == "https://news.example.org/2026/rates?utm_source=rss&id=7#top"
    assert entry.key == "https://news.example.org/2026/rates?id=7"
    assert entry.guid == "g-1"
    assert entry.published == datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    assert entry.author


def test_key_falls_back_to_guid_then_to_a_stable_hash() -> None:
    body = rss(
        "<item><title>With guid</title><guid isPermaLink='false'>urn:x:1</guid></item>"
        "<item><title>Bare</title><description>Only text</description></item>"
    )
    first, second = parse(body).entries
    assert (first.key, first.url, first.published) == ("urn:x:1", None, None)
    assert second.key.startswith("sha256:")
    assert second.key == parse(body).entries[1].key


def test_atom_entry_with_content_and_updated_date() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title><id>urn:f</id><updated>2026-11-02T10:00:00Z</updated>
<entry><title type="html">A &amp;amp; B</title><id>urn:e:1</id><link href="https://example.org/e1"/>
<updated>2026-11-02T09:00:00-05:00</updated><content type="html">&lt;p&gt;Body text&lt;/p&gt;</content></entry>
</feed>"""
    entry = parse(body).entries[0]
    assert entry.title == "A & B"
    assert entry.summary == "Body text"
    assert entry.published == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    assert entry.key == "https://example.org/e1"


# ---- JSON Feed --------------------------------------------------------------------------------------------


def test_json_feed() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON News",
        "items": [
            {
                "id": 1,
                "url": "https://example.org/j1?fbclid=abc",
                "title": "First",
                "content_html": "<p>Hello <b>world</b></p>",
                "date_published": "2026-11-02T10:00:00+01:00",
                "authors": [{"name": "Ann"}, {"name": "Bo"}],
            },
            {"id": "two", "content_text": "No title,  no url", "author": {"name": "Cy"}},
            "not an item",
        ],
    }
    feed = parse(json.dumps(document).encode())
    first, second = feed.entries
    assert (feed.title, feed.warning) == ("JSON News", None)
    assert (first.key, first.guid, first.summary) == ("https://example.org/j1", "1", "Hello world")
    assert first.published == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert first.author == "Ann, Bo"
    assert (second.key, second.title, second.summary, second.author) == ("two", "", "No title, no url", "Cy")


def test_json_that_is_no_feed() -> None:
    assert parse_error(b'{"rss": {"channel": {}}}') == "not a feed: JSON without a JSON Feed 'items' list"
    assert parse_error(b'{"items": [').startswith("not a feed: invalid JSON")


def test_json_feeds_from_the_corpus() -> None:
    assert len(parse(corpus_feed("rsparser/DaringFireball.json")).entries) == 48
    assert len(parse(corpus_feed("feedjira/json_feed.json")).entries) == 20


# ---- gzip bodies ------------------------------------------------------------------------------------------


def test_gzip_body_is_decompressed() -> None:
    feed = parse(gzip.compress(rss("<item><title>Zipped</title><link>https://example.org/z</link></item>")))
    assert feed.entries[0].title == "Zipped"


def test_gzip_bodies_from_the_corpus() -> None:
    assert len(parse(corpus_feed("node-feedparser/compressed.xml")).entries) == 10
    assert len(parse(corpus_feed("node-feedparser/invalid-characters-gzipped.xml")).entries) == 25


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b" " * (MAX_DECOMPRESSED + 1), compresslevel=1)
    assert parse_error(bomb).startswith("gzip body unpacks to more than")


def test_broken_gzip() -> None:
    assert parse_error(b"\x1f\x8b\x08\x00garbage").startswith("gzip body could not be decompressed")


# ---- canonical URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://News.Example.COM:80/a/../b?z=2&a=1#frag", "https://news.example.com/b?a=1&z=2"),
        ("https://example.org:443/x?utm_source=rss&utm_medium=feed&id=3", "https://example.org/x?id=3"),
        ("https://example.org/x?fbclid=abc&gclid=def", "https://example.org/x"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org:8443/%7euser", "https://example.org:8443/~user"),
        ("tag:example.org,2026:1", "tag:example.org,2026:1"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_canonical_url_resolves_against_a_base() -> None:
    assert canonical_url("../b?x=1", "https://Example.org/feeds/a.xml") == "https://example.org/b?x=1"


# ---- feedparser without its HTML sanitiser: entries keep plain text only --------------------------------

HOSTILE_MARKUP = [
    "<p>Wescam <script>alert('x')</script>sensors</p>",
    "<style>p { color: red }</style>Export <b onclick='steal()'>permits</b>",
    "<!-- a comment -->Baykar <![CDATA[<i>drones</i>]]> used",
    "<iframe src='javascript:alert(1)'>framed</iframe> text <a href='/relative'>link</a>",
    "<svg><text>drawn</text><script>bad()</script></svg> after",
    "<applet code='x'>applet text</applet><object data='y'>object text</object>",
    "<img src=x onerror=alert(1)> <form><input value='v'></form> &amp; &lt;b&gt; &#233;t&eacute;",
    "<math><mi>x</mi></math><noscript>no script</noscript>",
    "<p>unclosed <b>bold <i>italic</p> stray < sign and > sign",
]


def hostile_feed() -> bytes:
    items = "".join(
        f"<item><title>T{i} &lt;b&gt;x&lt;/b&gt;</title><link>https://example.org/{i}</link>"
        f"<description><![CDATA[{markup}]]></description></item>"
        for i, markup in enumerate(HOSTILE_MARKUP)
    )
    atom = "".join(
        f'<entry><title type="html">A{i}</title><id>urn:a:{i}</id><link href="/a/{i}"/>'
        f'<content type="html"><![CDATA[{markup}]]></content></entry>'
        for i, markup in enumerate(HOSTILE_MARKUP)
    )
    return (
        rss(items)
        + b"\n"
        + (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            f'xml:base="https://example.org/base/"><title>A</title><id>urn:f</id>{atom}</feed>'
        ).encode()
    )


def read_both_ways(body: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    def read() -> object:
        try:
            return parse_feed(body, url=FEED_URL, fast=False)
        except FeedParseError as error:
            return f"error: {error.reason}"

    ours = read()
    with monkeypatch.context() as patched:
        patched.setattr(feeds, "FEEDPARSER_OPTIONS", {})  # feedparser's defaults: sanitised, links resolved
        sanitised = read()
    return ours, sanitised


def test_feedparser_is_called_without_its_sanitiser() -> None:
    assert feeds.FEEDPARSER_OPTIONS == {"sanitize_html": False, "resolve_relative_uris": False}


@pytest.mark.parametrize(
    "body", [hostile_feed().split(b"\n")[0], hostile_feed().split(b"\n")[1]], ids=["rss", "atom"]
)
def test_hostile_markup_reads_the_same_without_the_sanitiser(
    body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, sanitised = read_both_ways(body, monkeypatch)
    assert isinstance(ours, ParsedFeed) and len(ours.entries) == len(HOSTILE_MARKUP)
    assert ours == sanitised
    assert all("alert" not in e.summary and "bad()" not in e.summary for e in ours.entries)


def test_inert_template_content_is_no_text() -> None:
    """The one reading that differs from the sanitiser's: it strips a template's tags and keeps what they hold,
    which a browser never shows."""
    body = rss(
        "<item><title>T</title><description>&lt;template&gt;tpl&lt;/template&gt;Text</description></item>"
    )
    assert parse_feed(body, url=FEED_URL, fast=False).entries[0].summary == "Text"


def test_every_corpus_feed_reads_the_same_without_the_sanitiser(monkeypatch: pytest.MonkeyPatch) -> None:
    differing = []
    for path in corpus_feed_files():
        ours, sanitised = read_both_ways(path.read_bytes(), monkeypatch)
        if ours != sanitised:
            differing.append(path.name)
    assert differing == []


# ---- HTML pages: told apart without feedparser's loose parse, with feedparser's answer ---------------------


def html_documents() -> list[bytes]:
    pages = sorted(corpus("articles", "scrapinghub-aeb").glob("*.html.gz"))
    assert pages, "the corpus's article pages are missing"
    return [gzip.decompress(p.read_bytes()) for p in pages] + [
        p.read_bytes() for p in corpus_feed_files() if p.suffix in (".html", ".htm")
    ]


def feedparsers_answer(body: bytes) -> object:
    """What feedparser's reading of the document gives, as the pipeline read every document before."""
    prepared, start = feeds._prepared(body, FEED_URL)
    try:
        return feeds._parse_xml_feed(prepared, FEED_URL, {}, start)
    except FeedParseError as error:
        return error.reason


def our_answer(body: bytes) -> object:
    try:
        return dataclasses.replace(parse_feed(body, url=FEED_URL), fallback=None)
    except FeedParseError as error:
        return error.reason


def test_every_corpus_html_page_gets_feedparsers_answer() -> None:
    documents = html_documents()
    assert len(documents) > 150
    told_apart = [body for body in documents if feeds._html_page(*feeds._prepared(body, FEED_URL))]
    assert len(told_apart) > 150  # the pages feedparser no longer reads
    for body in documents:
        assert our_answer(body) == feedparsers_answer(body)


@pytest.mark.parametrize(
    "inside",
    [
        '<rss version="2.0"><channel><title>T</title><item><title>I</title><link>https://e.org/i</link></item>'
        "</channel></rss>",
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><title>E</title>'
        '<link href="https://e.org/e"/></entry></feed>',
        '<div xmlns:rss="http://purl.org/rss/1.0/"><item><title>I</title></item></div>',
    ],
    ids=["rss", "atom", "rss1-namespace"],
)
def test_a_page_with_a_feed_inside_is_still_read_by_feedparser(inside: str) -> None:
    body = f"<!DOCTYPE html><html><head><title>P</title></head><body>{inside}</body></html>".encode()
    assert not feeds._html_page(*feeds._prepared(body, FEED_URL))
    assert our_answer(body) == feedparsers_answer(body)


def test_feedparser_reads_an_atom_feed_inside_a_page() -> None:
    inside = '<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><title>E</title>'
    inside += '<link href="https://e.org/e"/></entry></feed>'
    body = f"<!DOCTYPE html><html><body>{inside}</body></html>".encode()
    feed = parse_feed(body, url=FEED_URL)
    assert [(e.title, e.url) for e in feed.entries] == [("E", "https://e.org/e")]


def test_a_document_of_no_feed_format_that_is_no_page_says_so() -> None:
    with pytest.raises(FeedParseError, match="no RSS, RDF or Atom element found"):
        parse_feed(b'<?xml version="1.0"?><catalog><book>x</book></catalog>', url=FEED_URL)
