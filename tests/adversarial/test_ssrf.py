"""SSRF: a page link from a public feed cannot reach the local network by DNS rebinding, through a proxy,
or inside an IPv6 address that carries an IPv4 one."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import pytest

from monitor.errors import FetchError
from monitor.fetch import Fetcher
from monitor.models import FetchResult
from monitor.netguard import embedded_ipv4, is_public
from tests.adversarial.hostile import PUBLIC, FakeInternet, LocalServer, RebindingResolver, http_server

__all__ = ["http_server"]

PUBLIC_FEED = f"http://{PUBLIC}/feed.xml"


def fetch(url: str, *, linked_from: str | None = PUBLIC_FEED, **options: Any) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(timeout=5, user_agent="test", **options) as fetcher:
            return await fetcher.fetch(url, max_size=10_000, linked_from=linked_from)

    return asyncio.run(go())


def refused(url: str, **options: Any) -> str:
    with pytest.raises(FetchError) as caught:
        fetch(url, **options)
    return caught.value.reason


# --- DNS rebinding ------------------------------------------------------------------------------------------


def test_the_connection_goes_to_the_address_that_was_checked(http_server: LocalServer) -> None:
    http_server.route("/admin", body=b"public page")
    resolver = RebindingResolver(PUBLIC, "127.0.0.1")  # public for the first lookup, loopback afterwards
    network = FakeInternet()
    url = f"http://rebind.test:{http_server.port}/admin"
    assert fetch(url, resolver=resolver, network_backend=network).body == b"public page"
    assert resolver.asked == ["rebind.test"]  # one lookup: the one checked is the one connected to
    assert network.connects == [PUBLIC]
    assert http_server.requests[0].headers["host"] == f"rebind.test:{http_server.port}"  # the name is kept


def test_a_name_that_rebinds_to_loopback_is_refused_before_connecting(http_server: LocalServer) -> None:
    http_server.route("/admin", body=b"secret")
    resolver = RebindingResolver("127.0.0.1")
    network = FakeInternet()
    reason = refused(
        f"http://rebind.test:{http_server.port}/admin", resolver=resolver, network_backend=network
    )
    assert (
        reason
        == "refused: rebind.test is on a private network (127.0.0.1) and the feed linking to it (93.184.216.34) is not"
    )
    assert network.connects == []
    assert http_server.requests == []


def test_a_name_with_one_private_answer_among_public_ones_is_refused(http_server: LocalServer) -> None:
    async def mixed(host: str, port: int) -> list[str]:
        return [PUBLIC, "10.0.0.7"]

    network = FakeInternet()
    reason = refused(f"http://mixed.test:{http_server.port}/", resolver=mixed, network_backend=network)
    assert "private network (10.0.0.7)" in reason
    assert network.connects == []


def test_a_public_page_cannot_redirect_into_the_local_network(http_server: LocalServer) -> None:
    http_server.route("/admin", body=b"secret")
    http_server.route("/story", redirect=f"http://127.0.0.1:{http_server.port}/admin")
    network = FakeInternet()
    reason = refused(f"http://{PUBLIC}:{http_server.port}/story", network_backend=network)
    assert "127.0.0.1 is on a private network" in reason
    assert [r.path for r in http_server.requests] == ["/story"]


def test_configured_feeds_and_links_from_private_feeds_may_reach_the_local_network(
    http_server: LocalServer,
) -> None:
    url = http_server.route("/story", body=b"story")
    assert fetch(url, linked_from=None).body == b"story"
    assert fetch(url, linked_from=http_server.url("/feed.xml")).body == b"story"


def test_a_feed_whose_name_also_answers_a_private_address_gets_no_exemption(http_server: LocalServer) -> None:
    http_server.route("/admin", body=b"secret")

    async def mixed(host: str, port: int) -> list[str]:
        return [PUBLIC, "127.0.0.1"] if host == "evil.test" else ["127.0.0.1"]

    network = FakeInternet()
    reason = refused(
        f"http://127.0.0.1:{http_server.port}/admin",
        linked_from="http://evil.test/feed.xml",
        resolver=mixed,
        network_backend=network,
    )
    assert "127.0.0.1 is on a private network" in reason
    assert http_server.requests == []


def test_a_public_feed_whose_name_rebinds_to_loopback_gets_no_exemption(http_server: LocalServer) -> None:
    feed = http_server.route("/feed.xml", body=b"<rss/>")
    http_server.route("/admin", body=b"secret")
    network = FakeInternet(names={"evil.test": PUBLIC})  # the feed itself comes from a public address
    resolver = RebindingResolver("127.0.0.1")  # and later lookups of its name say loopback
    feed_url = feed.replace("127.0.0.1", "evil.test")

    async def go() -> str:
        async with Fetcher(timeout=5, user_agent="t", resolver=resolver, network_backend=network) as fetcher:
            await fetcher.fetch(feed_url, max_size=10_000)
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(http_server.url("/admin"), max_size=10_000, linked_from=feed_url)
            return caught.value.reason

    assert "127.0.0.1 is on a private network" in asyncio.run(go())
    assert [r.path for r in http_server.requests] == ["/feed.xml"]


def test_a_feed_served_from_the_local_network_may_link_into_it(http_server: LocalServer) -> None:
    feed = http_server.route("/feed.xml", body=b"<rss/>")
    http_server.route("/story", body=b"story")
    resolver = RebindingResolver(PUBLIC)  # whatever its name says later, the feed came from 127.0.0.1

    async def go() -> bytes:
        async with Fetcher(timeout=5, user_agent="t", resolver=resolver) as fetcher:
            await fetcher.fetch(feed.replace("127.0.0.1", "localhost"), max_size=10_000)
            linked = feed.replace("127.0.0.1", "localhost")
            return (await fetcher.fetch(http_server.url("/story"), max_size=10_000, linked_from=linked)).body

    assert asyncio.run(go()) == b"story"


# --- addresses that carry an IPv4 address -------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "[::127.0.0.1]",  # IPv4-compatible
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[::ffff:10.1.2.3]",
        "[64:ff9b::127.0.0.1]",  # NAT64
        "[64:ff9b::192.168.0.1]",
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
        "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254, the cloud metadata service
        "2130706433",  # 127.0.0.1 as one decimal number
        "127.1",
        "0x7f.0.0.1",
        "[::]",
        "0.0.0.0",
    ],
)
def test_local_addresses_in_disguise_are_refused(http_server: LocalServer, host: str) -> None:
    network = FakeInternet()
    reason = refused(f"http://{host}:{http_server.port}/admin", network_backend=network)
    assert "is on a private network" in reason
    assert network.connects == []
    assert http_server.requests == []


@pytest.mark.parametrize(
    ("address", "carried", "public"),
    [
        ("::ffff:93.184.216.34", "93.184.216.34", True),
        ("64:ff9b::93.184.216.34", "93.184.216.34", True),
        ("64:ff9b::10.0.0.1", "10.0.0.1", False),
        ("::10.0.0.1", "10.0.0.1", False),
        ("2002:5db8:d822::1", "93.184.216.34", True),
        ("2002:c0a8:1::1", "192.168.0.1", False),
        ("2606:4700::1111", None, True),
        ("fe80::1", None, False),
        ("ff02::1", None, False),
        ("224.0.0.1", None, False),
        ("100.64.0.1", None, False),
    ],
)
def test_embedded_ipv4_addresses_are_judged_as_the_address_they_carry(
    address: str, carried: str | None, public: bool
) -> None:
    parsed = ipaddress.ip_address(address)
    assert str(embedded_ipv4(parsed)) == str(carried)
    assert is_public(parsed) is public


# --- proxies --------------------------------------------------------------------------------------------------


@pytest.fixture
def proxy(http_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """HTTP_PROXY names the local server, which answers proxied requests (their path is the full URL)."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{http_server.port}")
    http_server.route("http://intranet.invalid/admin", body=b"secret")
    http_server.route("http://news.test/story", body=b"story")
    return http_server


def test_links_from_public_feeds_are_not_sent_through_a_proxy(proxy: LocalServer) -> None:
    reason = refused("http://intranet.invalid/admin")
    assert reason.startswith("could not resolve host")
    assert "not sent through the proxy unless allow_proxy is set" in reason
    assert proxy.requests == []


def test_with_allow_proxy_a_name_that_does_not_resolve_here_is_refused(proxy: LocalServer) -> None:
    reason = refused("http://intranet.invalid/admin", allow_proxy=True)
    assert reason == "refused: intranet.invalid does not resolve here, so it is not sent through the proxy"
    assert proxy.requests == []


def test_with_allow_proxy_a_name_resolving_to_a_local_address_is_refused(proxy: LocalServer) -> None:
    reason = refused("http://news.test/story", allow_proxy=True, resolver=RebindingResolver("10.0.0.1"))
    assert "news.test is on a private network (10.0.0.1)" in reason
    assert proxy.requests == []


def test_with_allow_proxy_a_public_name_goes_through_the_proxy(proxy: LocalServer) -> None:
    result = fetch("http://news.test/story", allow_proxy=True, resolver=RebindingResolver(PUBLIC))
    assert result.body == b"story"
    assert [r.path for r in proxy.requests] == ["http://news.test/story"]


def test_configured_feeds_still_use_the_proxy(proxy: LocalServer) -> None:
    assert fetch("http://intranet.invalid/admin", linked_from=None).body == b"secret"
    assert [r.path for r in proxy.requests] == ["http://intranet.invalid/admin"]


def test_with_allow_proxy_a_host_named_in_no_proxy_is_fetched_directly(
    proxy: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_PROXY exempts a host from the proxy for links too: it is fetched directly, through the guard."""
    monkeypatch.setenv("NO_PROXY", "news.test")
    proxy.route("/story", body=b"direct story")
    network = FakeInternet()
    url = f"http://news.test:{proxy.port}/story"
    result = fetch(url, allow_proxy=True, resolver=RebindingResolver(PUBLIC), network_backend=network)
    assert result.body == b"direct story"
    assert network.connects == [PUBLIC]
    assert [r.path for r in proxy.requests] == ["/story"]  # not the full URL a proxy is asked for


def test_a_refused_connection_without_a_proxy_says_nothing_of_proxies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://news.test:{port}/story"
    reason = refused(url, resolver=RebindingResolver(PUBLIC), network_backend=FakeInternet())
    assert reason == "connection refused"  # no word of proxies when none is set


def test_a_feed_read_through_all_proxy_counts_as_public_and_its_links_stay_guarded(
    http_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body of a feed read through a proxy came from the proxy's address, not the feed's: named by ALL_PROXY
    as much as by HTTP_PROXY, the feed is public, and its links cannot reach the local network."""
    for name in (
        "NO_PROXY",
        "no_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{http_server.port}")
    http_server.route("http://news.test/feed.xml", body=b"<rss/>")
    http_server.route("http://intranet.invalid/admin", body=b"secret")

    async def go() -> str:
        async with Fetcher(timeout=5, user_agent="t") as fetcher:
            assert (await fetcher.fetch("http://news.test/feed.xml", max_size=10_000)).body == b"<rss/>"
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(
                    "http://intranet.invalid/admin", max_size=10_000, linked_from="http://news.test/feed.xml"
                )
            return caught.value.reason

    assert asyncio.run(go()).startswith("could not resolve host")
    assert [r.path for r in http_server.requests] == ["http://news.test/feed.xml"]
