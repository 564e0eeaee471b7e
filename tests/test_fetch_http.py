"""The HTTP client over real servers on loopback: cookies a server sets are kept and sent back, and a response
that sets none leaves them as they were; a kept connection whose server went away is seen as gone, and a live one
is reused; a response's headers come out lower-case with repeated ones joined."""

from __future__ import annotations

import asyncio

from monitor.fetch import Fetcher
from tests.httpserver import LocalServer, http_server

__all__ = ["http_server"]

MB = 1 << 20


def test_cookies_a_server_sets_are_sent_back_and_kept_across_responses_that_set_none(
    http_server: LocalServer,
) -> None:
    login = http_server.route("/login", body=b"ok", headers={"Set-Cookie": "session=abc; Path=/"})
    feed = http_server.route("/feed.xml", body=b"<rss/>")

    async def go() -> None:
        async with Fetcher(timeout=5, user_agent="t") as fetcher:
            await fetcher.fetch(feed, max_size=MB)
            await fetcher.fetch(login, max_size=MB)
            await fetcher.fetch(feed, max_size=MB)
            await fetcher.fetch(feed, max_size=MB)

    asyncio.run(go())
    sent = [request.headers.get("cookie") for request in http_server.requests_for("/feed.xml")]
    assert sent == [None, "session=abc", "session=abc"]


async def serve_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer one request, then close the connection without saying so (no Connection: close)."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
    await writer.drain()
    writer.close()


def test_a_connection_the_server_closed_is_not_reused() -> None:
    async def go() -> list[bytes]:
        server = await asyncio.start_server(serve_once, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        bodies = []
        async with Fetcher(timeout=5, user_agent="t") as fetcher:
            for _ in range(3):
                bodies.append((await fetcher.fetch(f"http://127.0.0.1:{port}/f", max_size=MB)).body)
                await asyncio.sleep(0.05)  # the server's close arrives
        server.close()
        return bodies

    assert asyncio.run(go()) == [b"ok"] * 3


def test_a_responses_headers_are_kept_lower_case_with_repeated_ones_joined() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nETag: "v1"\r\nLast-Modified: Mon, 02 Nov 2026 10:00:00 GMT\r\n'
            b"X-Served-By: a\r\nx-served-by: b\r\nConnection: close\r\n\r\nok"
        )
        await writer.drain()
        writer.close()

    async def go() -> None:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with Fetcher(timeout=5, user_agent="t") as fetcher:
            fetched = await fetcher.fetch(f"http://127.0.0.1:{port}/f", max_size=MB)
        server.close()
        assert fetched.headers == {
            "content-length": "2",
            "etag": '"v1"',
            "last-modified": "Mon, 02 Nov 2026 10:00:00 GMT",
            "x-served-by": "a, b",
            "connection": "close",
        }
        assert fetched.etag == '"v1"' and fetched.last_modified == "Mon, 02 Nov 2026 10:00:00 GMT"

    asyncio.run(go())
