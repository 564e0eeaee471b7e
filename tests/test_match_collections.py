"""Compiling pauses the cyclic garbage collector, and a large compile ends with one full collection so that the
matcher's objects are not walked again and again while the first articles are matched."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from monitor.match import compile_watchlists, engine
from monitor.models import WatchlistSpec


def watchlists(count: int, words: str) -> list[WatchlistSpec]:
    """``count`` watchlists of words starting with ``words`` (unlike any compiled before: nothing parsed is kept)."""
    return [
        WatchlistSpec(f"w{index}", terms=(f"{words}{index}a", f'"{words}{index} b{index}"'), stem=False)
        for index in range(count)
    ]


@contextmanager
def collections_seen() -> Iterator[list[int]]:
    """The generation of each collection made meanwhile."""
    seen: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(note)
    try:
        yield seen
    finally:
        gc.callbacks.remove(note)


def test_a_large_compile_ends_with_one_full_collection_and_leaves_no_young_objects() -> None:
    specs = watchlists(3_000, "large")
    gc.collect()
    with collections_seen() as seen:
        compile_watchlists(specs)
    assert seen == [2]  # none while compiling, one full one at its end
    assert gc.get_count()[0] < 1_000


def test_a_small_compile_makes_no_collection_and_leaves_its_objects_to_the_collector() -> None:
    specs = watchlists(20, "small")
    gc.collect()
    with collections_seen() as seen:
        compile_watchlists(specs)
    assert 2 not in seen  # (the collector's own schedule may walk the youngest objects)
    assert gc.isenabled()


def test_the_full_collection_follows_the_bound_on_objects_left_young(monkeypatch: pytest.MonkeyPatch) -> None:
    specs = watchlists(300, "bound")
    for bound, full in ((0, True), (10**9, False)):
        monkeypatch.setattr(engine, "COLLECT_AFTER_OBJECTS", bound)
        gc.collect()
        with collections_seen() as seen:
            compile_watchlists(specs)
        assert (2 in seen) is full, bound


def test_a_compile_with_the_collector_off_leaves_it_off_and_collects_nothing() -> None:
    specs = watchlists(3_000, "off")
    gc.disable()
    try:
        with collections_seen() as seen:
            compile_watchlists(specs)
        assert seen == []
        assert not gc.isenabled()
    finally:
        gc.enable()
