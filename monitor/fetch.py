"""The one HTTP client of the program: conditional GET, an overall deadline, size caps, per-host limits.

Every failure comes back as a `FetchError` whose `reason` is short and human ("HTTP 404 Not Found",
"timed out after 30s", "body larger than 10 MB limit"); callers never see an httpx exception.
"""

from __future__ import annotations

import asyncio
import mimetypes
import socket
import time
import urllib.request
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import httpcore
import httpx

from monitor.errors import FetchError
from monitor.models import FetchResult
from monitor.netguard import (
    AddressRefused,
    PublicOnlyBackend,
    Resolver,
    is_public,
    parse_address,
    public_addresses,
    resolve,
    system_resolver,
)
from monitor.sizes import format_size

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"

# Only what `_Inflater` decodes, so that no library inflates a body before the size cap can see it.
ACCEPT_ENCODING = "gzip, deflate"

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})
# Hosts whose idle connections are kept open for their next feed or page (each is closed by the server or
# after httpx's keep-alive expiry of 5 s anyway).
HOSTS_KEPT = 200


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date; both become seconds from now (never negative)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or ''}:{parts.port or ''}"


def _connect_reason(exc: BaseException) -> str:
    """Name the cause of a failed connection, found down the chain of wrapped exceptions."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return "could not resolve host"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, OSError) and cause.strerror:
            return f"could not connect: {cause.strerror.lower()}"
        cause = cause.__cause__ or cause.__context__
    return f"could not connect: {exc}"


class Fetcher:
    """Fetches http(s) and file URLs with bounded concurrency; one instance is shared by the whole program."""

    def __init__(
        self,
        *,
        timeout: float,
        user_agent: str,
        max_connections: int = 20,
        max_per_host: int = 4,
        max_redirects: int = 5,
        allow_proxy: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        hosts_kept: int = HOSTS_KEPT,
    ) -> None:
        """``allow_proxy``: send page links from public feeds through HTTP(S)_PROXY too (after checking that
        their name resolves here to public addresses); by default they are fetched directly, pinned.
        ``resolver`` and ``network_backend`` replace the system's name lookup and sockets (tests).
        ``hosts_kept``: how many hosts, the last used, keep their idle connections open for the next fetch."""
        self._timeout = timeout
        self._max_redirects = max_redirects
        self._max_per_host = max_per_host
        self._allow_proxy = allow_proxy
        self._resolver = resolver or system_resolver
        self._slots = asyncio.Semaphore(max_connections)
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._private_hosts: dict[str, bool] = {}
        self._proxies = urllib.request.getproxies_environment()
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._options = {
            "http1": True,
            "http2": False,
            "follow_redirects": False,  # followed by hand, to record permanent moves and count hops
            "timeout": httpx.Timeout(timeout),
            "limits": limits,
            "headers": {"user-agent": user_agent, "accept-encoding": ACCEPT_ENCODING},
        }
        # Feeds you configured, and links from feeds on your own network: HTTP(S)_PROXY applies.
        # httpx applies HTTP(S)_PROXY only with its own transport: with a proxy set, it keeps it.
        proxied = any(self._proxies.get(scheme) for scheme in ("http", "https", "all"))
        if transport is None and (network_backend is not None or not proxied):
            transport = _BackendTransport(
                network_backend, limits, per_host=max_per_host, hosts_kept=hosts_kept, trust_env=True
            )
        self._client = httpx.AsyncClient(transport=transport, **self._options)  # type: ignore[arg-type]
        # Links from feeds on public hosts: never a proxy, every connection to a checked public address.
        backend = PublicOnlyBackend(self._resolver, network_backend)
        self._guarded = httpx.AsyncClient(
            transport=_BackendTransport(backend, limits, per_host=max_per_host, hosts_kept=hosts_kept),
            trust_env=False,
            **self._options,  # type: ignore[arg-type]
        )
        self._proxied: dict[str, httpx.AsyncClient] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in (self._client, self._guarded, *self._proxied.values()):
            await client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        max_size: int,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = FEED_ACCEPT,
        linked_from: str | None = None,
        user_agent: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResult:
        """``user_agent`` replaces the default one; ``headers`` (a feed's own, which may hold cookies) go only
        to ``url``'s host and are dropped when a redirect leads to another host.

        ``linked_from``: the feed that linked to this URL. A page linked from a feed on a public host may not
        lead into the local network (loopback, private, link-local addresses), so a hostile feed cannot make us
        fetch internal services; feeds that are themselves on a private network may link anywhere."""
        scheme = urlsplit(url).scheme.lower()
        if scheme == "file":
            if linked_from is not None and not linked_from.startswith("file:"):
                raise FetchError(
                    url, "a file:// link in a feed from the network is not followed", permanent=True
                )
            return await asyncio.to_thread(read_file_url, url, max_size)
        if scheme not in ("http", "https"):
            raise FetchError(url, f"unsupported URL scheme {scheme or '(none)'!r}", permanent=True)
        common = {"accept": accept}
        if user_agent:
            common["user-agent"] = user_agent
        if etag:
            common["if-none-match"] = etag
        if last_modified:
            common["if-modified-since"] = last_modified
        request = _RequestHeaders(url, common, {k.lower(): v for k, v in (headers or {}).items()})
        # Waiting for a free slot is not part of the request's time budget; the deadline starts after.
        async with self._slots, self._host_slot(url):
            started = time.monotonic()
            try:
                async with asyncio.timeout(self._timeout):
                    return await self._follow(url, request, max_size, started, linked_from)
            except (TimeoutError, httpx.TimeoutException):
                raise FetchError(url, f"timed out after {self._timeout:g}s") from None

    async def _client_for(self, url: str, current: str, linked_from: str | None) -> httpx.AsyncClient:
        """The client for one hop: guarded unless the URL was configured or linked from a private feed."""
        if linked_from is None or await self._feed_is_private(linked_from):
            return self._client
        proxy = self._proxy_for(current) if self._allow_proxy else None
        if proxy is None:
            return self._guarded
        # The proxy resolves the name itself, so it must resolve here, to public addresses only; a name that
        # does not resolve here may well be an internal one that the proxy knows.
        parts = urlsplit(current)
        try:
            await public_addresses(parts.hostname or "", parts.port or 0, self._resolver)
        except OSError:
            raise FetchError(
                url, f"refused: {parts.hostname} does not resolve here, so it is not sent through the proxy"
            ) from None
        client = self._proxied.get(proxy)
        if client is None:
            client = self._proxied[proxy] = httpx.AsyncClient(proxy=proxy, trust_env=False, **self._options)  # type: ignore[arg-type]
        return client

    def _proxy_for(self, url: str) -> str | None:
        """The proxy HTTP(S)_PROXY / ALL_PROXY name for ``url``, unless NO_PROXY exempts its host."""
        parts = urlsplit(url)
        proxy = self._proxies.get(parts.scheme.lower()) or self._proxies.get("all")
        if not proxy or urllib.request.proxy_bypass(parts.netloc):
            return None
        return proxy

    def _remember_feed_origin(self, requested: str, final: str, response: httpx.Response) -> None:
        """Record whether a configured URL's body came from a private address, judged by the address the
        connection actually went to: a later lookup of the name could be answered differently (rebinding).
        A body that came through a proxy, or from another host by a redirect, counts as public."""
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        address = parse_address(str(peer[0])) if isinstance(peer, tuple) and peer else None
        if address is None:
            return
        final_parts = urlsplit(final)
        proxied = bool(self._proxies.get(final_parts.scheme.lower()) or self._proxies.get("all"))
        final_host = final_parts.hostname or ""
        self._private_hosts[final_host] = not (proxied or is_public(address))
        requested_host = urlsplit(requested).hostname or ""
        if requested_host != final_host:
            self._private_hosts[requested_host] = False

    async def _feed_is_private(self, feed_url: str) -> bool:
        """Whether a feed is on a private network (or a file), so that its links may lead anywhere in it:
        from where its body last came if this fetcher fetched it, else from what its name resolves to."""
        if feed_url.startswith("file:"):
            return True
        host = urlsplit(feed_url).hostname or ""
        known = self._private_hosts.get(host)
        if known is None:
            try:
                addresses = await resolve(host, 0, self._resolver)
            except OSError:
                return False  # unresolvable: no reason to trust it
            # Every address must be private: one private answer among public ones proves nothing.
            known = self._private_hosts[host] = not any(is_public(address) for address in addresses)
        return known

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        key = _host_key(url)
        slot = self._host_slots.get(key)
        if slot is None:
            slot = self._host_slots[key] = asyncio.Semaphore(self._max_per_host)
        return slot

    async def _follow(
        self, url: str, headers: _RequestHeaders, max_size: int, started: float, linked_from: str | None
    ) -> FetchResult:
        current = url
        permanent_redirect: str | None = None
        for hop in range(self._max_redirects + 1):
            try:
                client = await self._client_for(url, current, linked_from)
                response = await self._send(url, current, headers.to(current), client)
            except AddressRefused as exc:
                feed_host = urlsplit(linked_from or "").hostname or ""
                raise FetchError(
                    url,
                    f"refused: {exc.host} is on a private network ({exc.address}) "
                    f"and the feed linking to it ({feed_host}) is not",
                    transient=False,
                ) from None
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECT_STATUSES and location:
                    current = urljoin(current, location.strip())
                    if urlsplit(current).scheme.lower() not in ("http", "https"):
                        raise FetchError(url, f"redirect to unsupported URL {current!r}", transient=False)
                    if hop == 0 and response.status_code in PERMANENT_REDIRECTS:
                        permanent_redirect = current
                    continue
                if linked_from is None:
                    self._remember_feed_origin(url, current, response)
                return await self._result(url, current, response, max_size, started, permanent_redirect)
            finally:
                await response.aclose()
        raise FetchError(url, f"too many redirects (more than {self._max_redirects})", transient=False)

    async def _send(
        self,
        url: str,
        current: str,
        headers: Mapping[str, str],
        client: httpx.AsyncClient,
    ) -> httpx.Response:
        try:
            request = client.build_request("GET", current, headers=headers)
            return await client.send(request, stream=True)
        except httpx.TimeoutException:
            raise
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            reason = _connect_reason(exc)
            if client is self._guarded and self._proxy_for(current):
                reason += (
                    " (links from public feeds are not sent through the proxy unless allow_proxy is set)"
                )
            raise FetchError(url, reason) from None
        except httpx.InvalidURL as exc:
            raise FetchError(url, f"invalid URL: {exc}", permanent=True) from None
        except httpx.HTTPError as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from None

    async def _result(
        self,
        url: str,
        final_url: str,
        response: httpx.Response,
        max_size: int,
        started: float,
        permanent_redirect: str | None,
    ) -> FetchResult:
        status = response.status_code
        if status >= 400:
            raise _status_error(url, response)
        body = b"" if status == 304 else await _read_capped(url, response, max_size)
        # Lower-case names already, a repeated header's values joined by ", ": what Headers.get says of each.
        headers = dict(response.headers.items())
        return FetchResult(
            url=url,
            final_url=final_url,
            status=status,
            body=body,
            headers=headers,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            permanent_redirect=permanent_redirect,
            elapsed=time.monotonic() - started,
        )


@dataclass(frozen=True, slots=True)
class _RequestHeaders:
    """The headers of one fetch: ``common`` on every hop, ``own`` (the feed's configured ones, possibly
    secret) only on hops to the host first asked for; the fetch's own headers win over configured ones."""

    url: str
    common: Mapping[str, str]
    own: Mapping[str, str]

    def to(self, current: str) -> dict[str, str]:
        if not self.own:
            return dict(self.common)
        same_host = urlsplit(current).hostname == urlsplit(self.url).hostname
        return {**self.own, **self.common} if same_host else dict(self.common)


class _BackendTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport over connection pools of our own: one small pool per host, so that a host's
    connections are kept open between its feeds (a single pool shared by every host closes an idle connection
    to open one to the next host: 1,000 fetches from 100 hosts opened 1,002 connections), and over our network
    backend when one is given (httpx has no option for it)."""

    def __init__(
        self,
        backend: httpcore.AsyncNetworkBackend | None,
        limits: httpx.Limits,
        *,
        per_host: int,
        hosts_kept: int,
        trust_env: bool = False,
    ) -> None:
        super().__init__(limits=limits, trust_env=trust_env)
        ssl_context = httpx.create_ssl_context(trust_env=trust_env)  # loading the CA bundle takes a while
        # httpx calls only handle_async_request, aclose and the context methods of its pool.
        self._pool = _PoolPerHost(  # type: ignore[assignment]
            lambda: httpcore.AsyncConnectionPool(
                ssl_context=ssl_context,
                max_connections=per_host,
                max_keepalive_connections=per_host,
                keepalive_expiry=limits.keepalive_expiry,
                http1=True,
                http2=False,
                network_backend=backend,
            ),
            hosts_kept,
        )


class _PoolPerHost:
    """One httpcore pool per origin (scheme, host, port). A pool looks over all its connections on every
    request, so small pools keep that cheap however many hosts have an idle connection. The pools of the
    ``hosts_kept`` hosts used last are kept; an older one is closed once none of its connections is busy."""

    def __init__(self, new_pool: Callable[[], httpcore.AsyncConnectionPool], hosts_kept: int) -> None:
        self._new_pool = new_pool
        self._hosts_kept = hosts_kept
        self._pools: OrderedDict[tuple[bytes, bytes, int | None], httpcore.AsyncConnectionPool] = (
            OrderedDict()
        )

    @property
    def hosts(self) -> int:
        return len(self._pools)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        url = request.url
        origin = (url.scheme, url.host, url.port)
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = self._new_pool()
            await self._close_unused()
        else:
            self._pools.move_to_end(origin)
        return await pool.handle_async_request(request)

    async def _close_unused(self) -> None:
        """Close the least recently used pools past ``hosts_kept`` that have no request in progress."""
        surplus = len(self._pools) - self._hosts_kept
        for origin, pool in list(self._pools.items()):
            if surplus <= 0:
                return
            if all(connection.is_idle() or connection.is_closed() for connection in pool.connections):
                del self._pools[origin]
                surplus -= 1
                await pool.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()

    async def __aenter__(self) -> _PoolPerHost:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()


def _status_error(url: str, response: httpx.Response) -> FetchError:
    status = response.status_code
    phrase = response.reason_phrase or ""
    retry_after = None
    if status in RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
    return FetchError(
        url,
        f"HTTP {status} {phrase}".strip(),
        status=status,
        retry_after=retry_after,
        permanent=status == 410,
    )


async def _read_capped(url: str, response: httpx.Response, max_size: int) -> bytes:
    """Read and decode the body, giving up as soon as it passes max_size.

    The body is read raw and inflated here, never by httpx: each step may produce at most what is left of
    max_size, so a small compressed body that unpacks to gigabytes costs no more memory than the cap."""
    too_big = FetchError(url, f"body larger than {format_size(max_size)} limit", transient=False)
    inflater = _inflater_for(url, response.headers.get("content-encoding", ""))
    declared = response.headers.get("content-length", "")
    # With gzip, Content-Length counts compressed bytes, and the decoded body is only ever larger.
    if declared.isdigit() and int(declared) > max_size:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    try:
        async for raw in response.aiter_raw():
            chunk = raw if inflater is None else inflater.inflate(raw, max_size - size)
            size += len(chunk)
            if size > max_size:
                raise too_big
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise
    except httpx.HTTPError as exc:
        raise FetchError(url, f"body could not be read: {type(exc).__name__}: {exc}") from None
    if inflater is not None:
        inflater.finish()
    return b"".join(chunks)


def _inflater_for(url: str, content_encoding: str) -> _Inflater | None:
    """The decoder for a Content-Encoding header; refuses what we did not ask for (see ACCEPT_ENCODING)."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise FetchError(
            url, f"stacked Content-Encoding {content_encoding.strip()!r} refused", transient=False
        )
    if codings[0] not in ("gzip", "x-gzip", "deflate"):
        raise FetchError(url, f"unsupported Content-Encoding {codings[0]!r} refused", transient=False)
    return _Inflater(url, codings[0])


class _Inflater:
    """Incremental gzip or deflate decoding whose every step is bounded by the room left under the size cap."""

    def __init__(self, url: str, coding: str) -> None:
        self._url = url
        self._gzip = coding != "deflate"
        # deflate is meant to be zlib-wrapped, but some servers send raw deflate: decided by the first bytes.
        self._zlib = zlib.decompressobj(wbits=31 if self._gzip else 15)
        self._started = False

    def inflate(self, data: bytes, room: int) -> bytes:
        """The decoded bytes of ``data``: at most ``room + 1``, so that passing the cap is seen, never paid."""
        out = b""
        while data and len(out) <= room:
            try:
                out += self._zlib.decompress(data, room + 1 - len(out))
            except zlib.error as exc:
                if self._gzip or self._started:
                    raise FetchError(self._url, f"body could not be decoded: {exc}") from None
                self._zlib = zlib.decompressobj(wbits=-15)
                continue
            self._started = True
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:
                # gzip allows several members one after the other; anything else after the end is ignored.
                data = self._zlib.unused_data
                if not (self._gzip and data.startswith(b"\x1f\x8b")):
                    return out
                self._zlib = zlib.decompressobj(wbits=31)
        return out

    def finish(self) -> None:
        if self._started and not self._zlib.eof:
            raise FetchError(self._url, "body could not be decoded: the compressed data is truncated")


def read_file_url(url: str, max_size: int) -> FetchResult:
    """Serve a file:// URL from disk, with the same size cap as the network."""
    started = time.monotonic()
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise FetchError(url, f"file URL on another host {parts.netloc!r}", permanent=True)
    path = Path(url2pathname(parts.path))
    try:
        with path.open("rb") as handle:
            body = handle.read(max_size + 1)
    except FileNotFoundError:
        raise FetchError(url, f"file not found: {path}", transient=False) from None
    except OSError as exc:
        raise FetchError(url, f"file could not be read: {exc.strerror or exc}") from None
    if len(body) > max_size:
        raise FetchError(url, f"body larger than {format_size(max_size)} limit", transient=False)
    content_type, _ = mimetypes.guess_type(path.name)
    headers = {"content-type": content_type} if content_type else {}
    return FetchResult(
        url=url, final_url=url, status=200, body=body, headers=headers, elapsed=time.monotonic() - started
    )
