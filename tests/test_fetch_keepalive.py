"""Connections kept open per host: a host's next feed reuses its idle connection, however many other hosts
were fetched in between, and the pools of hosts not used lately are closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from monitor.fetch import Fetcher

MB = 1 << 20
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'


@dataclass
class KeepAliveHost:
    """A real HTTP/1.1 server that keeps connections open and counts them."""

    port: int = 0
    opened: int = 0
    open_now: int = 0
    requests: int = 0
    server: asyncio.Server | None = field(default=None, repr=False)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.opened += 1
        self.open_now += 1
        try:
            while True:
                try:
                    await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                    return
                self.requests += 1
                head = f"HTTP/1.1 200 OK\r\ncontent-type: application/rss+xml\r\ncontent-length: {len(FEED)}\r\n\r\n"
                writer.write(head.encode() + FEED)
                await writer.drain()
        finally:
            self.open_now -= 1
            writer.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@asynccontextmanager
async def hosts(count: int) -> AsyncIterator[list[KeepAliveHost]]:
    started = [KeepAliveHost() for _ in range(count)]
    for host in started:
        host.server = await asyncio.start_server(host.serve, "127.0.0.1", 0)
        host.port = host.server.sockets[0].getsockname()[1]
    try:
        yield started
    finally:
        for host in started:
            assert host.server is not None
            host.server.close()


async def open_connections(farm: list[KeepAliveHost], expected: list[int]) -> list[int]:
    """The connections open at each host, once they are as expected or after a few seconds: a server sees a
    connection closed a moment after the client closed it."""
    for _ in range(500):
        if [host.open_now for host in farm] == expected:
            break
        await asyncio.sleep(0.01)
    return [host.open_now for host in farm]


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())  # type: ignore[arg-type]


def test_each_host_keeps_its_connection_across_other_hosts_fetches() -> None:
    async def go() -> None:
        # Fewer connections at once than hosts: one shared pool would close a host's idle connection to open
        # the next host's, and open a new one for every fetch.
        async with hosts(5) as farm, Fetcher(timeout=5, user_agent="t", max_connections=2) as fetcher:
            for round_ in range(3):
                for host in farm:
                    fetched = await fetcher.fetch(host.url(f"/feed/{round_}"), max_size=MB)
                    assert fetched.body == FEED
        assert [host.requests for host in farm] == [3] * 5
        assert [host.opened for host in farm] == [1] * 5

    run(go)


def test_concurrent_fetches_to_one_host_stay_within_its_limit() -> None:
    async def go() -> None:
        async with hosts(1) as farm, Fetcher(timeout=5, user_agent="t", max_per_host=2) as fetcher:
            for _ in range(3):
                await asyncio.gather(*(fetcher.fetch(farm[0].url("/f"), max_size=MB) for _ in range(6)))
        assert farm[0].requests == 18
        assert farm[0].opened == 2

    run(go)


def test_pools_of_hosts_not_used_lately_are_closed() -> None:
    async def go() -> None:
        async with hosts(4) as farm, Fetcher(timeout=5, user_agent="t", hosts_kept=2) as fetcher:
            for host in farm:
                await fetcher.fetch(host.url("/f"), max_size=MB)
            assert await open_connections(farm, [0, 0, 1, 1]) == [0, 0, 1, 1]
            await fetcher.fetch(farm[0].url("/f"), max_size=MB)
            assert await open_connections(farm, [1, 0, 0, 1]) == [1, 0, 0, 1]
        assert [host.opened for host in farm] == [2, 1, 1, 1]

    run(go)


def test_a_kept_connection_tells_where_each_feed_it_brings_came_from() -> None:
    """The address a configured feed's body came from, read from its connection (looked up once, when the
    connection opened): every feed a kept connection brings is recorded as coming from a private host."""

    async def go() -> None:
        async with hosts(1) as farm, Fetcher(timeout=5, user_agent="t") as fetcher:
            for path in ("/feed/1", "/feed/2", "/feed/3"):
                fetcher._private_hosts.clear()
                await fetcher.fetch(farm[0].url(path), max_size=MB)
                assert fetcher._private_hosts == {"127.0.0.1": True}
        assert farm[0].opened == 1

    run(go)
