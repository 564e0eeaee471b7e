"""Decompression bombs: the fetcher decodes what it asked for, and never more than its size cap."""

from __future__ import annotations

import asyncio
import tracemalloc
import zlib

import pytest

from monitor.errors import FetchError
from monitor.fetch import PAGE_ACCEPT, Fetcher
from monitor.models import FetchResult
from tests.adversarial.hostile import GIB, LocalServer, bomb, http_server, stacked_bomb

__all__ = ["http_server"]

MB = 1 << 20  # a binary limit: errors say "MiB"
GZIP = {"Content-Encoding": "gzip", "Content-Type": "text/html"}


def fetch(url: str, *, max_size: int = MB, page: bool = False) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(timeout=30, user_agent="test") as fetcher:
            if page:
                return await fetcher.fetch(url, max_size=max_size, accept=PAGE_ACCEPT)
            return await fetcher.fetch(url, max_size=max_size)

    return asyncio.run(go())


def peak_growth(url: str, *, page: bool) -> tuple[str, int]:
    """The fetch's error and how far Python's allocated memory rose above where it started, in bytes."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        with pytest.raises(FetchError) as caught:
            fetch(url, page=page)
        return caught.value.reason, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("page", [False, True], ids=["feed", "page"])
def test_a_gigabyte_gzip_bomb_costs_no_more_than_the_cap(http_server: LocalServer, page: bool) -> None:
    url = http_server.route("/bomb", body=bomb(GIB), headers=GZIP)  # about 1 MB on the wire
    reason, growth = peak_growth(url, page=page)
    assert reason == "body larger than 1 MiB limit"
    assert growth < 6 * MB  # the cap, the raw chunks in flight and the client itself; never the 1 GiB


@pytest.mark.parametrize("encoding", ["gzip, gzip", "gzip,deflate", "deflate, gzip, gzip"])
def test_stacked_encodings_are_refused_before_decoding(http_server: LocalServer, encoding: str) -> None:
    body = stacked_bomb(GIB)
    assert len(body) < 4096
    url = http_server.route("/stacked", body=body, headers={"Content-Encoding": encoding})
    reason, growth = peak_growth(url, page=True)
    assert reason == f"stacked Content-Encoding {encoding!r} refused"
    assert growth < 2 * MB


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "x-bomb"])
def test_unknown_encodings_are_refused(http_server: LocalServer, encoding: str) -> None:
    url = http_server.route("/odd", body=b"\x00" * 100, headers={"Content-Encoding": encoding})
    with pytest.raises(FetchError, match=f"unsupported Content-Encoding '{encoding}' refused"):
        fetch(url)


def test_only_decodable_encodings_are_advertised(http_server: LocalServer) -> None:
    fetch(http_server.route("/plain", body=b"ok"))
    assert http_server.requests[0].headers["accept-encoding"] == "gzip, deflate"


def test_identity_gzip_and_deflate_in_both_wrappings_are_decoded(http_server: LocalServer) -> None:
    text = b"<html><body>" + b"story " * 5000 + b"</body></html>"
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    variants = {
        "identity": text,
        "gzip": zlib.compress(text, wbits=31),
        "x-gzip": zlib.compress(text, wbits=31),
        "deflate": zlib.compress(text),
        "Deflate ": raw.compress(text) + raw.flush(),
        "identity, gzip": zlib.compress(text, wbits=31),
    }
    for encoding, body in variants.items():
        url = http_server.route("/v", body=body, headers={"Content-Encoding": encoding})
        assert fetch(url).body == text, encoding


def test_gzip_members_one_after_the_other_are_all_decoded(http_server: LocalServer) -> None:
    body = zlib.compress(b"first ", wbits=31) + zlib.compress(b"second", wbits=31)
    url = http_server.route("/members", body=body, headers={"Content-Encoding": "gzip"})
    assert fetch(url).body == b"first second"


def test_a_body_exactly_at_the_cap_passes_and_one_byte_more_does_not(http_server: LocalServer) -> None:
    url = http_server.route("/edge", body=zlib.compress(b"x" * MB, wbits=31), headers=GZIP)
    assert len(fetch(url).body) == MB
    url = http_server.route("/over", body=zlib.compress(b"x" * (MB + 1), wbits=31), headers=GZIP)
    with pytest.raises(FetchError, match="body larger than 1 MiB limit"):
        fetch(url)


def test_corrupt_and_truncated_compressed_bodies_are_errors(http_server: LocalServer) -> None:
    whole = zlib.compress(b"story " * 1000, wbits=31)
    url = http_server.route("/cut", body=whole[: len(whole) // 2], headers=GZIP)
    with pytest.raises(FetchError, match="truncated"):
        fetch(url)
    url = http_server.route("/junk", body=b"\x1f\x8bnot gzip at all", headers=GZIP)
    with pytest.raises(FetchError, match="body could not be decoded"):
        fetch(url)
