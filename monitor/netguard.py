"""Which addresses are public, and a connection layer that only ever connects to an address it checked.

A page linked from a feed on a public host may not lead into the local network. Checking the name first and
letting the HTTP library resolve it again at connect time leaves a gap (DNS rebinding: public for the check,
127.0.0.1 for the connection), so the check happens inside the network backend: it resolves the name once,
refuses if any answer is not public, and connects to exactly the addresses it checked. TLS still verifies the
certificate against the name and the Host header still carries it: only the socket is pinned.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses the host resolves to. Injected by tests; the default asks the system.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class AddressRefused(Exception):
    """A connection to a host whose address is not public was refused before it was made."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to {address}")
        self.host = host
        self.address = address


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]).split("%")[0] for info in infos]


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d),
    NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::). Such an address reaches that IPv4 host."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet, judged by the IPv4 address it carries if any."""
    carried = embedded_ipv4(address)
    if carried is not None:
        return is_public(carried)
    return address.is_global and not address.is_multicast


def parse_address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]").split("%")[0])
    except ValueError:
        return None


async def resolve(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    """The addresses of ``host`` (itself if it is an address); raises OSError when it does not resolve."""
    literal = parse_address(host)
    if literal is not None:
        return [literal]
    addresses = [parse_address(answer) for answer in await resolver(host, port)]
    found = [address for address in addresses if address is not None]
    if not found:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
    return found


async def public_addresses(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    """The addresses of ``host``, all of them public; raises AddressRefused if any is not."""
    addresses = await resolve(host, port, resolver)
    for address in addresses:
        if not is_public(address):
            raise AddressRefused(host, str(address))
    return addresses


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves each host once per connection, refuses non-public answers,
    and connects to the addresses it checked."""

    def __init__(self, resolver: Resolver, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._resolver = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await public_addresses(host, port, self._resolver)
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve {host}") from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # there was at least one address
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not used for fetching")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
