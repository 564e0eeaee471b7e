"""Work httpx and httpcore do on every request, made cheaper without changing what they do.

A poll cycle is one request per feed, and the main process spends a good part of its time in the HTTP client
(docs/benchmarks.md). Two of its per-request costs do nothing on nearly every request:

- The client hands every response to its cookie jar, through adapter objects built for the standard library's
  ``http.cookiejar`` (a ``urllib.request.Request`` each time), although the jar takes cookies only from
  ``Set-Cookie`` headers (``Set-Cookie2`` is ignored by its default policy, the one the client uses). A
  response without one no longer goes to the jar.
- Before reusing an idle connection, httpcore asks its stream whether the socket is readable (the server
  closed it); the stream looks the socket up through anyio's table of attributes, rebuilt on every question
  with a ``getpeername`` call. The socket and its peer address are looked up once, when the connection opens.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpcore._utils import is_socket_readable


class SetCookieCookies(httpx.Cookies):
    """The client's cookies, given to the jar only from responses that set one."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


def client(**options: Any) -> httpx.AsyncClient:
    """``httpx.AsyncClient(**options)`` whose cookies are ``SetCookieCookies`` (the same jar)."""
    made = httpx.AsyncClient(**options)
    # httpx keeps a client's cookies there; its ``cookies`` setter would copy them into a plain Cookies.
    made._cookies = SetCookieCookies(made.cookies.jar)
    return made


class SocketKnownStream(httpcore.AsyncNetworkStream):
    """A network stream whose socket and peer address were looked up once, when it opened."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket = inner.get_extra_info("socket")
        self._peer = inner.get_extra_info("server_addr")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return SocketKnownStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        # httpcore's own streams (anyio, trio, sync) tell "is_readable" as is_socket_readable of their socket.
        if info == "is_readable" and self._socket is not None:
            return is_socket_readable(self._socket)
        if info == "socket":
            return self._socket
        if info == "server_addr":
            return self._peer
        return self._inner.get_extra_info(info)


class SocketKnownBackend(httpcore.AsyncNetworkBackend):
    """``inner``'s connections as ``SocketKnownStream``."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return SocketKnownStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_unix_socket(path, timeout=timeout, socket_options=socket_options)
        return SocketKnownStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
