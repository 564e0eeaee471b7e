"""The fetcher against a real local HTTP server and real files."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import FetchError
from monitor.fetch import PAGE_ACCEPT, Fetcher, _Inflater, parse_retry_after
from monitor.models import FetchResult
from monitor.sizes import format_size
from tests.httpserver import LocalServer, http_server, unused_port

__all__ = ["http_server"]  # the fixture, imported for pytest

MB = 1 << 20
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'


def fetch(url: str, *, timeout: float = 5.0, max_size: int = MB, **options: Any) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(timeout=timeout, user_agent="monitor-test/1") as fetcher:
            return await fetcher.fetch(url, max_size=max_size, **options)

    return asyncio.run(go())


def fetch_error(url: str, **options: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(url, **options)
    return caught.value


def test_200_returns_body_headers_and_validators(http_server: LocalServer) -> None:
    url = http_server.route(
        "/feed",
        body=FEED,
        headers={"Content-Type": "application/rss+xml; charset=utf-8", "X-Thing": "1"},
        etag='"v1"',
        last_modified="Mon, 02 Nov 2026 10:00:00 GMT",
    )
    result = fetch(url)
    assert (result.status, result.body, result.final_url) == (200, FEED, url)
    assert result.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert result.headers["x-thing"] == "1"
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 02 Nov 2026 10:00:00 GMT"
    assert result.permanent_redirect is None
    assert 0 <= result.elapsed < 60  # the seconds the fetch took, not a clock reading
    sent = http_server.requests_for("/feed")[0].headers
    assert sent["user-agent"] == "monitor-test/1"
    assert "application/rss+xml" in sent["accept"]
    assert "if-none-match" not in sent


def test_conditional_get_round_trip_gives_304_with_empty_body(http_server: LocalServer) -> None:
    url = http_server.route("/feed", body=FEED, etag='"v1"', last_modified="Mon, 02 Nov 2026 10:00:00 GMT")
    first = fetch(url)
    second = fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert second.status == 304 and second.not_modified
    assert second.body == b""
    sent = http_server.requests_for("/feed")[1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 02 Nov 2026 10:00:00 GMT"


def test_changed_etag_gives_the_new_body(http_server: LocalServer) -> None:
    url = http_server.route("/feed", body=FEED, etag='"v2"')
    assert fetch(url, etag='"v1"').status == 200


@pytest.mark.parametrize(
    ("status", "reason", "permanent"),
    [
        (404, "HTTP 404 Not Found", False),
        (500, "HTTP 500 Internal Server Error", False),
        (410, "HTTP 410 Gone", True),
    ],
)
def test_error_statuses(http_server: LocalServer, status: int, reason: str, permanent: bool) -> None:
    error = fetch_error(http_server.route("/x", status=status, body=b"nope"))
    assert (error.reason, error.status, error.permanent) == (reason, status, permanent)
    assert error.url == http_server.url("/x")


def test_429_retry_after_in_seconds(http_server: LocalServer) -> None:
    error = fetch_error(http_server.route("/x", status=429, headers={"Retry-After": "120"}))
    assert error.status == 429
    assert error.retry_after == 120.0


def test_503_retry_after_as_http_date(http_server: LocalServer) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    error = fetch_error(http_server.route("/x", status=503, headers={"Retry-After": later}))
    assert error.retry_after is not None and 3000 < error.retry_after <= 3600


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30.0
    assert parse_retry_after("Mon, 02 Nov 2026 10:01:00 GMT", now) == 60.0
    assert parse_retry_after("Mon, 02 Nov 2026 09:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_permanent_redirect_is_recorded(http_server: LocalServer) -> None:
    new = http_server.route("/new", body=FEED)
    old = http_server.route("/old", status=301, redirect="/new")
    result = fetch(old)
    assert (result.status, result.body, result.final_url) == (200, FEED, new)
    assert result.permanent_redirect == new


def test_a_location_header_is_followed_only_on_a_redirect_status(http_server: LocalServer) -> None:
    """A 200 or 201 that names another Location is the answer itself (a page saying where it was created)."""
    http_server.route("/elsewhere", body=b"not this")
    for status in (200, 201):
        url = http_server.route(
            f"/here-{status}", status=status, body=FEED, headers={"Location": "/elsewhere"}
        )
        result = fetch(url)
        assert (result.status, result.body, result.final_url) == (status, FEED, url)
    assert http_server.requests_for("/elsewhere") == []


def test_temporary_redirect_is_followed_but_not_recorded(http_server: LocalServer) -> None:
    http_server.route("/new", body=FEED)
    result = fetch(http_server.route("/old", status=307, redirect="/new"))
    assert result.final_url == http_server.url("/new")
    assert result.permanent_redirect is None


def test_permanent_move_after_a_temporary_hop_is_not_recorded(http_server: LocalServer) -> None:
    http_server.route("/c", body=FEED)
    http_server.route("/b", status=301, redirect="/c")
    result = fetch(http_server.route("/a", status=302, redirect="/b"))
    assert result.final_url == http_server.url("/c")
    assert result.permanent_redirect is None


def test_redirect_loop(http_server: LocalServer) -> None:
    http_server.route("/a", redirect="/b")
    http_server.route("/b", redirect="/a")
    error = fetch_error(http_server.url("/a"))
    assert error.reason == "too many redirects (more than 5)"
    assert len(http_server.requests) == 6


def test_slow_drip_is_cut_by_the_overall_deadline(http_server: LocalServer) -> None:
    # Every byte arrives well within a per-read timeout; only an overall deadline stops this.
    url = http_server.route("/slow", body=b"x" * 1000, drip=0.05)
    error = fetch_error(url, timeout=0.5)
    assert error.reason == "timed out after 0.5s"


def test_server_that_never_answers_times_out(http_server: LocalServer) -> None:
    error = fetch_error(http_server.route("/late", body=FEED, delay=2), timeout=0.3)
    assert error.reason == "timed out after 0.3s"


def test_oversize_refused_from_content_length(http_server: LocalServer) -> None:
    url = http_server.route("/big", body=b"x" * (MB + 1))
    error = fetch_error(url)
    assert error.reason == "body larger than 1 MiB limit"


def test_oversize_without_content_length_stops_reading(http_server: LocalServer) -> None:
    url = http_server.route("/endless", body=b"x", content_length=False, endless=True)
    error = fetch_error(url, max_size=10 * MB)
    assert error.reason == "body larger than 10 MiB limit"


def test_gzip_body_is_decoded(http_server: LocalServer) -> None:
    url = http_server.route("/gz", body=FEED * 50, gzip=True)
    result = fetch(url)
    assert result.body == FEED * 50
    assert "gzip" in http_server.requests[0].headers["accept-encoding"]


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_decoding_stops_one_byte_past_the_room_even_across_gzip_members(coding: str) -> None:
    """A body's decoding never makes more than the room left plus one byte (enough to see the cap passed),
    also where a second gzip member follows the first."""
    text = b"Wescam " * 100  # 700 bytes
    body = gzip.compress(text) * 2 if coding == "gzip" else zlib.compress(text * 2)
    assert len(_Inflater("https://e.org/feed", coding).inflate(body, 1000)) == 1001
    assert _Inflater("https://e.org/feed", coding).inflate(body, 2000) == text + text


def test_gzip_bomb_is_capped_after_decoding(http_server: LocalServer) -> None:
    url = http_server.route("/bomb", body=b"\0" * (5 * MB), gzip=True)  # about 5 KB on the wire
    assert fetch_error(url).reason == "body larger than 1 MiB limit"


def test_page_accept_header_is_sent(http_server: LocalServer) -> None:
    fetch(http_server.route("/page", body=b"<html></html>"), accept=PAGE_ACCEPT)
    assert http_server.requests[0].headers["accept"] == PAGE_ACCEPT


def test_file_url(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    result = fetch(path.as_uri())
    assert (result.status, result.body) == (200, FEED)
    assert result.headers["content-type"] == "application/xml"
    assert 0 <= result.elapsed < 60  # the seconds the read took, not a clock reading


def test_file_url_size_cap_and_missing_file(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * 2000)
    assert fetch_error(big.as_uri(), max_size=1000).reason == "body larger than 1 KB limit"
    assert fetch_error((tmp_path / "gone.xml").as_uri()).reason.startswith("file not found")


def test_unsupported_scheme() -> None:
    error = fetch_error("ftp://example.org/feed")
    assert error.reason == "unsupported URL scheme 'ftp'"


def test_refused_port() -> None:
    error = fetch_error(f"http://127.0.0.1:{unused_port()}/feed")
    assert error.reason == "connection refused"


def test_per_host_limit_bounds_concurrent_requests(http_server: LocalServer) -> None:
    http_server.route("/slow", body=FEED, delay=0.1)

    async def go() -> list[FetchResult]:
        async with Fetcher(timeout=10, user_agent="t", max_per_host=2) as fetcher:
            return await asyncio.gather(
                *(fetcher.fetch(http_server.url("/slow"), max_size=MB) for _ in range(6))
            )

    assert all(r.status == 200 for r in asyncio.run(go()))
    assert http_server.max_in_flight == 2


def test_format_size() -> None:
    assert format_size(10 * MB) == "10 MiB"
    assert format_size(10_000_000) == "10 MB"  # a decimal limit in decimal units, not "9.54 MB"
    assert format_size(5 * (1 << 20)) == "5 MiB"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(1500) == "1.5 KB"
    assert format_size(999) == "999 bytes"
    assert (format_size(2 * 10**9), format_size(3 * 2**30), format_size(10**6)) == ("2 GB", "3 GiB", "1 MB")
    assert (format_size(1000), format_size(1024), format_size(2**20)) == ("1 KB", "1 KiB", "1 MiB")
    assert format_size(256_000) == "256 KB"  # a multiple of both 1,000 and 256: written in decimal


def test_a_body_of_exactly_the_size_limit_is_read_and_one_byte_more_is_refused(
    http_server: LocalServer, tmp_path: Path
) -> None:
    """The limit is the largest body accepted, whether the size is declared, counted while reading, counted
    after decoding gzip, or read from a file."""
    limit = 1000
    exact = http_server.route("/exact", body=b"x" * limit)
    assert fetch(exact, max_size=limit).body == b"x" * limit
    over = http_server.route("/over", body=b"x" * (limit + 1))
    assert fetch_error(over, max_size=limit).reason == "body larger than 1 KB limit"
    undeclared = http_server.route("/undeclared", body=b"y" * limit, content_length=False)
    assert fetch(undeclared, max_size=limit).body == b"y" * limit
    undeclared_over = http_server.route("/undeclared-over", body=b"y" * (limit + 1), content_length=False)
    assert fetch_error(undeclared_over, max_size=limit).reason == "body larger than 1 KB limit"
    packed = http_server.route("/packed", body=b"z" * limit, gzip=True)
    assert fetch(packed, max_size=limit).body == b"z" * limit
    packed_over = http_server.route("/packed-over", body=b"z" * (limit + 1), gzip=True)
    assert fetch_error(packed_over, max_size=limit).reason == "body larger than 1 KB limit"
    path = tmp_path / "exact.xml"
    path.write_bytes(b"f" * limit)
    assert fetch(path.as_uri(), max_size=limit).body == b"f" * limit


def test_status_400_is_the_first_error_and_399_is_not(http_server: LocalServer) -> None:
    assert fetch_error(http_server.route("/bad", status=400, body=b"no")).status == 400
    assert fetch(http_server.route("/odd", status=399, body=FEED)).status == 399
