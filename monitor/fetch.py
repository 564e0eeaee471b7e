"""The one HTTP client of the program: conditional GET, an overall deadline, size caps, per-host limits.

Every failure comes back as a `FetchError` whose `reason` is short and human ("HTTP 404 Not Found",
"timed out after 30s", "body larger than 10 MB limit"); callers never see an httpx exception.
"""

from __future__ import annotations

import asyncio
import ipaddress
import mimetypes
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import httpx

from monitor.errors import FetchError
from monitor.models import FetchResult

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})


def human_size(size: int) -> str:
    """10485760 -> '10 MB'; binary units, because that is how limits are configured."""
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


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
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = timeout
        self._max_redirects = max_redirects
        self._max_per_host = max_per_host
        self._slots = asyncio.Semaphore(max_connections)
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._private_hosts: dict[str, bool] = {}
        self._client = httpx.AsyncClient(
            http1=True,
            http2=False,
            follow_redirects=False,  # followed by hand, to record permanent moves and count hops
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"user-agent": user_agent, "accept-encoding": "gzip, deflate"},
            transport=transport,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

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

    async def _refuse_private(self, url: str, current: str, linked_from: str) -> None:
        host = urlsplit(current).hostname or ""
        if not await self._is_private(host):
            return
        feed_host = urlsplit(linked_from).hostname or ""
        if linked_from.startswith("file:") or await self._is_private(feed_host):
            return
        raise FetchError(
            url, f"refused: {host} is on a private network and the feed linking to it ({feed_host}) is not"
        )

    async def _is_private(self, host: str) -> bool:
        """Whether a host name or address leads into a private network (cached per host)."""
        known = self._private_hosts.get(host)
        if known is not None:
            return known
        try:
            addresses = [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except OSError:
                return False  # unresolvable: the request itself will fail with a clear reason
            addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        private = any(not address.is_global for address in addresses)
        self._private_hosts[host] = private
        return private

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
            if linked_from is not None:
                await self._refuse_private(url, current, linked_from)
            response = await self._send(url, current, headers.to(current))
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECT_STATUSES and location:
                    current = urljoin(current, location.strip())
                    if urlsplit(current).scheme.lower() not in ("http", "https"):
                        raise FetchError(url, f"redirect to unsupported URL {current!r}")
                    if hop == 0 and response.status_code in PERMANENT_REDIRECTS:
                        permanent_redirect = current
                    continue
                return await self._result(url, current, response, max_size, started, permanent_redirect)
            finally:
                await response.aclose()
        raise FetchError(url, f"too many redirects (more than {self._max_redirects})")

    async def _send(self, url: str, current: str, headers: Mapping[str, str]) -> httpx.Response:
        try:
            request = self._client.build_request("GET", current, headers=headers)
            return await self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise FetchError(url, _connect_reason(exc)) from None
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
        return FetchResult(
            url=url,
            final_url=final_url,
            status=status,
            body=body,
            headers={name.lower(): value for name, value in response.headers.items()},
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
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
        same_host = urlsplit(current).hostname == urlsplit(self.url).hostname
        return {**self.own, **self.common} if same_host and self.own else dict(self.common)


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
    """Read the (decompressed) body, giving up as soon as it passes max_size."""
    too_big = FetchError(url, f"body larger than {human_size(max_size)} limit")
    declared = response.headers.get("content-length", "")
    # With gzip, Content-Length counts compressed bytes, and the decoded body is only ever larger.
    if declared.isdigit() and int(declared) > max_size:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_size:
                raise too_big
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise
    except httpx.HTTPError as exc:
        raise FetchError(url, f"body could not be read: {type(exc).__name__}: {exc}") from None
    return b"".join(chunks)


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
        raise FetchError(url, f"file not found: {path}") from None
    except OSError as exc:
        raise FetchError(url, f"file could not be read: {exc.strerror or exc}") from None
    if len(body) > max_size:
        raise FetchError(url, f"body larger than {human_size(max_size)} limit")
    content_type, _ = mimetypes.guess_type(path.name)
    headers = {"content-type": content_type} if content_type else {}
    return FetchResult(
        url=url, final_url=url, status=200, body=body, headers=headers, elapsed=time.monotonic() - started
    )
