"""A hostile loopback web: bodies built to hurt the client, and a resolver that changes its mind.

The server itself is the real local test server (tests/httpserver.py); what makes it hostile is what it is
told to send. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import functools
import gzip
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore

from tests.httpserver import LocalServer, http_server

__all__ = [
    "GIB",
    "PUBLIC",
    "FakeInternet",
    "LocalServer",
    "RebindingResolver",
    "bomb",
    "http_server",
    "stacked_bomb",
]

GIB = 1 << 30
PUBLIC = "93.184.216.34"  # a public address; FakeInternet serves it from 127.0.0.1
_ZEROS = bytes(1 << 20)


@functools.cache
def bomb(size: int = GIB) -> bytes:
    """gzip of ``size`` zero bytes, built a MiB at a time (1 GiB gives about 1 MB on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(_ZEROS) for _ in range(size // len(_ZEROS))]
    parts.append(packer.flush())
    return b"".join(parts)


@functools.cache
def stacked_bomb(size: int = GIB) -> bytes:
    """The body for ``Content-Encoding: gzip, gzip``: about 2 KB that unpack to ``size`` bytes."""
    return gzip.compress(bomb(size), 9)


class RebindingResolver:
    """A DNS resolver under an attacker's control: each call answers the next address of ``answers``
    (the last one forever after), whatever name is asked. It records the names it was asked."""

    def __init__(self, *answers: str) -> None:
        self.answers: Sequence[str] = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        answer = self.answers[min(len(self.asked), len(self.answers) - 1)]
        self.asked.append(host)
        return [answer]


class FakeInternet(httpcore.AsyncNetworkBackend):
    """Sockets for tests: the public address PUBLIC is served by the local server, 127.0.0.1 is itself, and
    every other address is unreachable, so nothing ever leaves the machine. Records where it connected."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.connects: list[str] = []
        self.names = names or {}  # what a client that does its own lookups finds for a name
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        host = self.names.get(host, host)
        self.connects.append(host)
        if host not in (PUBLIC, "127.0.0.1"):
            raise httpcore.ConnectError(f"{host} is unreachable from the test network")
        stream = await self._real.connect_tcp("127.0.0.1", port, timeout=timeout)
        return _SeenFrom(stream, (host, port))

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("no unix sockets here")

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


class _SeenFrom(httpcore.AsyncNetworkStream):
    """A real loopback connection that says it goes to the address that was asked for."""

    def __init__(self, stream: httpcore.AsyncNetworkStream, server_addr: tuple[str, int]) -> None:
        self._stream = stream
        self._server_addr = server_addr

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    def get_extra_info(self, info: str) -> Any:
        return self._server_addr if info == "server_addr" else self._stream.get_extra_info(info)
