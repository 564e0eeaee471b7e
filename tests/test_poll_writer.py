"""Polls written apart: every poll's one transaction runs on the store's single writer thread, never on the
event loop's, one at a time and in the order the polls finished; a lease lost while the write waited stores
nothing; a poll cancelled while its write runs ends only after the write. Real SQLite files, a local HTTP
server, the real pipeline (workers inline)."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from monitor.models import FeedUpdate
from monitor.store import Store
from monitor.store.polls import PollWrite
from monitor.store.tables import articles, hits
from tests.helpers import LocalServer
from tests.test_poll_transaction import NOW, count, cycle, serve


def transactions(store: Store) -> list[tuple[str, str]]:
    """("begin" | "commit", the thread's name) of every write transaction, as they happen."""
    seen: list[tuple[str, str]] = []

    def on(kind: str) -> Any:
        def note(conn: Any) -> None:
            if not conn.get_execution_options().get("monitor_read_only"):
                seen.append((kind, threading.current_thread().name))

        return note

    event.listen(store.engine, "begin", on("begin"))
    event.listen(store.engine, "commit", on("commit"))
    return seen


def test_polls_are_written_on_one_writer_thread_one_transaction_at_a_time(
    store: Store, http_server: LocalServer
) -> None:
    jobs = [serve(http_server, f"/feed{i}") for i in range(8)]
    store.sync_feeds({job.name: job.url for job in jobs})
    seen = transactions(store)
    results = cycle(store, jobs)
    written = list(seen)
    assert [(r.status, r.new_entries, r.hits) for r in results] == [("ok", 2, 1)] * 8
    assert (count(store, articles), count(store, hits)) == (16, 8)
    # cycle() syncs the feeds again first (a write on the calling thread), then one transaction a poll
    assert written[:2] == [
        ("begin", threading.current_thread().name),
        ("commit", threading.current_thread().name),
    ]
    polls = written[2:]
    assert len(polls) == 2 * 8
    assert {name for _, name in polls} == {polls[0][1]}
    assert polls[0][1].startswith("monitor-store-writer")
    assert [kind for kind, _ in polls] == ["begin", "commit"] * 8  # never two at once


def test_a_lease_lost_while_the_write_waited_stores_nothing(store: Store, http_server: LocalServer) -> None:
    job = serve(http_server, "/feed")
    asked: list[str] = []

    def lease_check(name: str) -> bool:  # held when the poll ends; gone by the time its write runs
        asked.append(threading.current_thread().name)
        return len(asked) == 1

    [result] = cycle(store, [job], lease_check=lease_check)
    assert result.status == "lease-lost"
    assert asked[0] == threading.current_thread().name and asked[1].startswith("monitor-store-writer")
    assert (count(store, articles), count(store, hits)) == (0, 0)
    assert store.feed_state(job.name).last_polled is None


def test_a_poll_cancelled_while_its_write_runs_ends_after_the_write(store: Store) -> None:
    store.sync_feeds({"feed": "http://127.0.0.1:9/feed"})
    writing, release = threading.Event(), threading.Event()

    def hold(conn: Any) -> None:  # the write transaction has begun: keep it open until released
        if not conn.get_execution_options().get("monitor_read_only"):
            writing.set()
            release.wait(10)

    event.listen(store.engine, "begin", hold)
    change = FeedUpdate("feed", NOW, "ok", NOW + timedelta(minutes=10), 0, 2)

    async def run() -> bool:
        saving = asyncio.create_task(store.save_poll_apart(PollWrite(change), {}, now=NOW))
        await asyncio.to_thread(writing.wait, 10)
        saving.cancel()
        await asyncio.sleep(0)
        finished_early = saving.done()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await saving
        return finished_early

    assert asyncio.run(run()) is False
    assert store.feed_state("feed").last_polled == NOW  # written whole, before the poll ended
