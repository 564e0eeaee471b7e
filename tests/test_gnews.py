"""Google News links: the publisher's URL decoded offline from the older ids, followed through the redirect for
the opaque ones (a local server plays news.google.com), kept as the link with a reason when neither works."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from monitor import gnews
from monitor.fetch import Fetcher
from monitor.match import compile_watchlists
from monitor.models import Entry
from monitor.poll import FeedJob, Pipeline, PollLimits
from monitor.store import Store
from monitor.workers import WorkerPool
from tests.factory import article_page
from tests.httpserver import LocalServer, http_server

__all__ = ["http_server"]

PUBLISHER = "https://www.cbc.ca/news/politics/drone-cameras-export-permits-1.7012345?cmp=rss"


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def google_id(payload: bytes, amp: bytes | None = None) -> str:
    """An article id as Google News writes them: a protobuf {1: 19, 4: payload[, 26: amp]} in base64url."""
    message = b"\x08\x13\x22" + varint(len(payload)) + payload
    if amp is not None:
        message += b"\xd2\x01" + varint(len(amp)) + amp
    return base64.urlsafe_b64encode(message).decode().rstrip("=")


def test_the_older_ids_start_as_recorded_and_decode_offline() -> None:
    link = f"https://news.google.com/rss/articles/{google_id(PUBLISHER.encode())}?oc=5"
    assert gnews.article_id(link).startswith("CBMi")
    assert gnews.decode(link) == (PUBLISHER, None)


def test_an_amp_variant_after_the_url_is_ignored() -> None:
    amp = b"https://www.cbc.ca/amp/1.7012345"
    link = f"https://news.google.com/articles/{google_id(PUBLISHER.encode(), amp)}"
    assert gnews.decode(link) == (PUBLISHER, None)


def test_a_long_url_with_a_two_byte_length() -> None:
    long_url = "https://example.org/" + "a" * 300
    assert gnews.decode(f"https://news.google.com/rss/articles/{google_id(long_url.encode())}") == (
        long_url,
        None,
    )


def test_opaque_ids_need_a_request() -> None:
    link = f"https://news.google.com/rss/articles/{google_id(b'AU_yqLNkq9zT3x0example-token')}?oc=5"
    decoded, reason = gnews.decode(link)
    assert decoded is None and gnews.needs_request(reason)


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("https://news.google.com/rss/articles/%%%", "not base64"),
        ("https://news.google.com/rss/articles/" + google_id(b"no url here"), "carries no publisher URL"),
        (
            "https://news.google.com/rss/articles/" + base64.urlsafe_b64encode(b"\x08").decode(),
            "no publisher",
        ),
    ],
)
def test_ids_that_carry_nothing_say_why(link: str, reason: str) -> None:
    decoded, why = gnews.decode(link)
    assert decoded is None and why and reason in why and not gnews.needs_request(why)


@pytest.mark.parametrize(
    ("url", "wrapped"),
    [
        ("https://news.google.com/rss/articles/CBMiabc?oc=5", True),
        ("https://news.google.com/articles/CBMiabc", True),
        ("https://news.google.com/topics/abc", False),
        ("https://www.cbc.ca/news/rss/articles/x", False),
        (None, False),
        ("http://[::1", False),
        # the host told apart from the text of the URL as urlsplit reads it: any case, split by a tab or line break
        ("https://NEWS.Google.COM/rss/articles/CBMiabc", True),
        ("https://news.goo\tgle.com/rss/articles/CBMiabc", True),
        ("https://news.google.com\r\n/articles/CBMiabc", True),
        ("https://news.google.co/rss/articles/CBMiabc", False),
        ("https://example.com/rss/articles/CBMiabc?from=news.google.com", False),
    ],
)
def test_which_links_are_google_news(url: str | None, wrapped: bool) -> None:
    assert gnews.is_google_news(url) is wrapped


def entry(link: str) -> Entry:
    return Entry(key=link, url=link, guid=None, title="Drone cameras", summary="", published=None)


def resolve(tmp_path: Path, server: LocalServer, link: str) -> tuple[object, ...]:
    async def run() -> tuple[object, ...]:
        fetcher = Fetcher(timeout=5, user_agent="test")
        store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
        pipeline = Pipeline(
            fetcher, WorkerPool(0), store, compile_watchlists([]), {},
            PollLimits(max_feed_size=1 << 20, max_page_size=1 << 20, extract_timeout=10, notify_max_age=86400,
                       max_backoff=3600),
            google_news_base=server.url(""),
        )  # fmt: skip
        try:
            job = FeedJob("google", server.url("/feed.xml"), 60, fulltext=False)
            from datetime import UTC, datetime

            article, _, _ = await pipeline._article(job, entry(link), datetime.now(UTC))
            return article.url, article.via, article.via_error, article.key, article.aliases
        finally:
            await fetcher.aclose()
            store.close()

    return asyncio.run(run())


def test_an_opaque_link_is_followed_through_its_redirect(tmp_path: Path, http_server: LocalServer) -> None:
    token = google_id(b"AU_yqLNkq9zT3x0example-token")
    http_server.route("/story", body=article_page("Drone cameras", ["Text."] * 5))
    http_server.route(f"/rss/articles/{token}", redirect=http_server.url("/story"))
    link = f"https://news.google.com/rss/articles/{token}?oc=5"
    url, via, error, key, aliases = resolve(tmp_path, http_server, link)
    assert url == http_server.url("/story") and via == link and error is None
    assert key.endswith("/story") and link in aliases  # type: ignore[operator]


def test_an_offline_link_becomes_the_publishers_url(tmp_path: Path, http_server: LocalServer) -> None:
    link = f"https://news.google.com/rss/articles/{google_id(PUBLISHER.encode())}?oc=5"
    url, via, error, key, _ = resolve(tmp_path, http_server, link)
    assert (url, via, error) == (PUBLISHER, link, None)
    assert key == "https://cbc.ca/news/politics/drone-cameras-export-permits-1.7012345"


def test_a_link_that_does_not_redirect_stays_with_the_reason(
    tmp_path: Path, http_server: LocalServer
) -> None:
    token = google_id(b"AU_yqLNkq9zT3x0example-token")
    http_server.route(f"/rss/articles/{token}", body=b"<html><script>consent</script></html>")
    link = f"https://news.google.com/rss/articles/{token}"
    url, via, error, _, _ = resolve(tmp_path, http_server, link)
    assert url == link and via is None and error == "Google News did not redirect to the publisher"


def test_a_link_whose_request_fails_stays_with_the_reason(tmp_path: Path, http_server: LocalServer) -> None:
    token = google_id(b"AU_yqLNkq9zT3x0example-token")
    http_server.route(f"/rss/articles/{token}", status=404, body=b"gone")
    link = f"https://news.google.com/rss/articles/{token}"
    url, via, error, _, _ = resolve(tmp_path, http_server, link)
    assert url == link and via is None and str(error).startswith("following the Google News link failed")


@pytest.mark.parametrize(
    ("message", "values"),
    [
        (b"\x0a\x03abc", [b"abc"]),  # a value that ends exactly at the end of the message
        (b"\x0a\x04abc", []),  # one that would run past it: malformed, nothing after it is read
        (b"\x08\x96\x01\x12\x02hi", [b"hi"]),  # a varint field skipped
        (b"\x09" + bytes(8) + b"\x12\x02hi", [b"hi"]),  # a fixed64 field skipped
        (b"\x0d" + bytes(4) + b"\x12\x02hi", [b"hi"]),  # a fixed32 field skipped
        (b"\x12\x02hi\x0b\x12\x02no", [b"hi"]),  # an unknown wire type ends the reading
        (b"\x12\x02hi\x08\xff\xff", [b"hi"]),  # a varint cut short ends it too
        (b"\x08" + b"\xff" * 9 + b"\x01\x12\x02hi", [b"hi"]),  # a varint of ten bytes, the most there is
        (b"\x08" + b"\xff" * 10 + b"\x01\x12\x02no", []),  # eleven: malformed, nothing after it is read
    ],
)
def test_the_length_delimited_values_of_a_message_are_read_to_the_first_malformed_field(
    message: bytes, values: list[bytes]
) -> None:
    assert gnews._length_delimited(message) == values
