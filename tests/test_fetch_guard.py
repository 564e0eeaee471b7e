"""Pages linked from feeds on public hosts may not lead into the local network."""

from __future__ import annotations

import asyncio

import pytest

from monitor.errors import FetchError
from monitor.fetch import Fetcher
from tests.httpserver import LocalServer, http_server

__all__ = ["http_server"]

PUBLIC_FEED = "http://93.184.216.34/feed.xml"  # a public address: no name lookup needed


def fetch(url: str, linked_from: str | None) -> bytes:
    async def go() -> bytes:
        async with Fetcher(timeout=5, user_agent="test") as fetcher:
            return (await fetcher.fetch(url, max_size=10_000, linked_from=linked_from)).body

    return asyncio.run(go())


def test_a_public_feed_cannot_link_into_the_local_network(http_server: LocalServer) -> None:
    url = http_server.route("/admin", body=b"secret")
    with pytest.raises(FetchError, match="private network"):
        fetch(url, linked_from=PUBLIC_FEED)
    assert http_server.requests_for("/admin") == []  # refused before any request was made


def test_a_feed_on_the_local_network_may_link_to_it(http_server: LocalServer) -> None:
    url = http_server.route("/story", body=b"story")
    assert fetch(url, linked_from=http_server.url("/feed.xml")) == b"story"
    assert fetch(url, linked_from="file:///srv/feeds/local.xml") == b"story"


def test_disguised_local_addresses_are_recognised(http_server: LocalServer) -> None:
    port = http_server.url("/").rsplit(":", 1)[1].rstrip("/")
    with pytest.raises(FetchError, match="private network"):
        fetch(f"http://[::ffff:127.0.0.1]:{port}/story", linked_from=PUBLIC_FEED)
    with pytest.raises(FetchError, match="private network"):
        fetch(f"http://localhost:{port}/story", linked_from=PUBLIC_FEED)


def test_file_links_are_only_followed_from_file_feeds() -> None:
    with pytest.raises(FetchError, match="file:// link"):
        fetch("file:///etc/hostname", linked_from=PUBLIC_FEED)
