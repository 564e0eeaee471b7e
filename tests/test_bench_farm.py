"""The benchmark's feed farm serves what the pipeline meets on the web, and the fetcher handles each way of it:
gzip or not, ETag or Last-Modified only, rewritten entries or a file byte for byte."""

from __future__ import annotations

import asyncio
import gzip
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.farm import Farm, Template, _template, serving_mix
from monitor.feeds import parse_feed
from monitor.fetch import Fetcher
from tests.factory import Item, rss

ROOT = Path(__file__).resolve().parent.parent

LATIN1_FEED = (
    b'<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>Caf\xe9</title>'
    b"<item><title>Cr\xe8me</title><link>https://e.org/1</link><pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate>"
    b"</item><item><title>Br\xfbl\xe9e</title><link>https://e.org/2</link></item></channel></rss>"
)
BROKEN = b"<rss><channel><item><title>never closed"


def test_every_file_is_served_all_four_ways_and_the_feeds_are_split_in_half() -> None:
    files = 7
    ways = {(index % files, serving_mix(index, files)) for index in range(4 * files)}
    assert Counter(file for file, _ in ways) == dict.fromkeys(range(files), 4)
    mixes = Counter(serving_mix(index, files) for index in range(1000))
    assert all(200 <= count <= 300 for count in mixes.values()) and len(mixes) == 4


def test_a_file_in_another_encoding_is_rewritten_and_keeps_its_bytes() -> None:
    template = _template("latin1.xml", LATIN1_FEED)
    assert template is not None and template.rewritable
    farm = Farm(1, [1], [template])
    feed = farm.feeds[0]
    url = feed.add(time.time(), "Zorbluxite 1")
    parsed = parse_feed(feed.render(), url="http://127.0.0.1:1/feed/0")
    assert [e.url for e in parsed.entries] == [url, "http://127.0.0.1:1/a/0/1"]
    assert [e.title for e in parsed.entries] == ["Zorbluxite 1", "Brûlée"]
    assert parsed.title == "Café"


def test_a_file_the_farm_cannot_read_back_is_not_rewritten() -> None:
    assert _template("broken.xml", BROKEN) is None


async def fetch_twice(templates: list[Template], feeds: int) -> list[tuple[object, ...]]:
    """Each feed fetched, then fetched again with what the first response gave: (gzip sent, ETag, status of the
    second fetch, body equal to the plain document)."""
    server = await asyncio.start_server(lambda r, w: farm.serve_connection(r, w), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    farm = Farm(feeds, [port], templates)
    seen = []
    async with Fetcher(timeout=10, user_agent="farm-test/1") as fetcher:
        for index, feed in enumerate(farm.feeds):
            url = farm.feed_url(index)
            first = await fetcher.fetch(url, max_size=1 << 20)
            again = await fetcher.fetch(
                url, max_size=1 << 20, etag=first.etag, last_modified=first.last_modified
            )
            seen.append((feed.gzip, first.etag is not None, again.status, first.body == feed.render()))
    server.close()
    await server.wait_closed()
    return seen


def test_the_fetcher_gets_each_feed_whole_then_not_modified_whichever_way_it_is_served() -> None:
    template = _template("news.xml", rss([Item(f"Story {i}", f"https://e.org/{i}") for i in range(3)]))
    static = Template("broken.xml", False, "application/xml", "", (), "", static=BROKEN)
    assert template is not None
    seen = asyncio.run(fetch_twice([template, static], 8))
    assert {(gz, etag) for gz, etag, _, _ in seen} == {
        (True, True),
        (True, False),
        (False, True),
        (False, False),
    }
    assert all(status == 304 and whole for _, _, status, whole in seen)
    served = [feed for feed in Farm(8, [1], [template, static]).feeds if not feed.template.rewritable]
    assert all(feed.render() == BROKEN for feed in served)
    assert {gzip.decompress(f.body(True)) if f.gzip else f.body(True) for f in served} == {BROKEN}
    assert {f.gzip for f in served} == {True, False}


async def served_then_pushed_out(serve_first: bool) -> dict[str, float]:
    """A two-item feed given a marked entry, served (or not), then two newer entries: the farm's record of
    marked entries pushed out unseen."""
    template = _template("latin1.xml", LATIN1_FEED)
    assert template is not None and len(template.items) == 2
    server = await asyncio.start_server(lambda r, w: farm.serve_connection(r, w), "127.0.0.1", 0)
    farm = Farm(1, [server.sockets[0].getsockname()[1]], [template])
    farm.advance(1, None, "Zorbluxite 1")
    if serve_first:
        async with Fetcher(timeout=10, user_agent="farm-test/1") as fetcher:
            await fetcher.fetch(farm.feed_url(0), max_size=1 << 20)
    farm.advance(1, None, None)
    assert farm.stats.pushed_out == {}  # one newer entry: the marked one is still in the feed
    farm.advance(1, None, None)
    assert b"Zorbluxite" not in farm.feeds[0].render()
    server.close()
    await server.wait_closed()
    return farm.stats.pushed_out


def test_a_marked_entry_pushed_out_of_its_feed_before_any_poll_is_recorded_as_such() -> None:
    assert list(asyncio.run(served_then_pushed_out(serve_first=False))) == ["Zorbluxite 1"]
    assert asyncio.run(served_then_pushed_out(serve_first=True)) == {}


def test_the_cycle_module_imports_nothing_a_real_worker_does_not() -> None:
    """Worker processes import the main module again; under the benchmark that is bench.pipeline_cycle, where a
    real poll's workers import the `monitor` script: the cycle's CPU must not carry the runtime's imports."""
    code = (
        "import sys, bench.pipeline_cycle, monitor.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'sqlalchemy') or m == 'monitor.runtime'))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "[]"
