"""The cycle timeline's table: each step's time spread over the seconds of the cycle, and the event-loop thread's
wall time split into CPU, waiting for a core and asleep."""

from __future__ import annotations

from typing import Any

from bench.pipeline_timeline import schedstat, table, timed_read
from monitor import poll_read
from tests.factory import Item, rss


def poll_times(
    start: float, fetched: float, sent: float, began: float, ended: float, back: float, end: float
) -> dict[str, float]:
    return {
        "start": start,
        "fetch0": start,
        "fetch1": fetched,
        "sent": sent,
        "worker0": began,
        "worker1": ended,
        "worker_cpu": (ended - began) / 2,
        "back": back,
        "end": end,
    }


def test_spans_are_split_at_second_boundaries_and_the_loop_time_adds_up() -> None:
    log: dict[str, Any] = {
        "t0": 100.0,
        "polls": {
            "a": poll_times(100.0, 100.5, 100.5, 100.75, 101.25, 101.5, 101.5),
            "b": poll_times(100.25, 101.25, 101.25, 101.5, 102.0, 102.0, 102.5),
        },
        "saves": [(101.5, 0.25, 0.125, 0.0625)],
        "lag": [(100.5, 0.25), (101.0, -0.001)],
        "sched0": (1.0, 2.0),
        "sched1": (2.5, 2.5),
    }
    rows = table(log).splitlines()
    assert rows[0] == "second | in flight | fetch | to worker | worker | back | after | save_poll | loop lag"
    # b's fetch: 0.75 s in second 0, 0.25 s in second 1; a's worker: 0.25 s in each; the negative lag is left out.
    assert rows[1] == "0 | 1.8 | 1.2 | 0.2 | 0.2 | 0.0 | 0.0 | 0.0 | 0.2"
    assert rows[2] == "1 | 1.5 | 0.2 | 0.2 | 0.8 | 0.2 | 0.0 | 0.2 | 0.0"
    assert rows[3] == "2 | 0.5 | 0.0 | 0.0 | 0.0 | 0.0 | 0.5 | 0.0 | 0.0"
    assert rows[4] == "total | 3.8 | 1.5 | 0.5 | 1.0 | 0.2 | 0.5 | 0.2 | 0.2"
    assert rows[5].startswith("loop thread: wall 2.50 s = CPU 1.50 + waiting for a core 0.50 + asleep 0.50;")
    assert "in save_poll: wall 0.25, CPU 0.12, waiting for a core 0.06;" in rows[5]
    assert rows[5].endswith("workers' parse CPU 0.50")


def test_the_timed_read_is_the_workers_read_with_its_times() -> None:
    body = rss([Item("Wescam export", "https://e.org/1"), Item("Other", "https://e.org/2")])
    parsed, (began, ended, cpu) = timed_read(body, "https://e.org/feed", {})
    assert parsed == poll_read.read_feed(body, "https://e.org/feed", {})
    bare, _ = timed_read(body, "https://e.org/feed", {}, False)
    assert bare == poll_read.read_feed(body, "https://e.org/feed", {}, False) != parsed
    assert began <= ended and cpu >= 0
    cpu_now, waited = schedstat()
    assert cpu_now > 0 and waited >= 0
