"""When a worker gives its heap's free pages back: once idle for a moment, never between tasks of a busy spell."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

from monitor.memory import TRIM_IDLE, TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD, IdleTrim, trim_due


def test_no_trim_while_a_task_runs() -> None:
    assert not trim_due(busy=True, owed=True, idle_for=TRIM_IDLE * 10)


def test_no_trim_before_the_worker_has_been_idle_long_enough() -> None:
    assert not trim_due(busy=False, owed=True, idle_for=TRIM_IDLE - 0.01)
    assert trim_due(busy=False, owed=True, idle_for=TRIM_IDLE)


def test_one_trim_after_each_spell_of_tasks() -> None:
    assert not trim_due(busy=False, owed=False, idle_for=TRIM_IDLE * 10)
    assert trim_due(busy=False, owed=True, idle_for=2.0, after=2.0)


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_trimming_thread_trims_once_when_the_tasks_stop() -> None:
    trim = IdleTrim(after=0.05)
    trim.started()
    trim.ended()
    wait_until(lambda: trim.trims == 1)
    assert trim.trims == 1
    time.sleep(0.3)  # idle on: nothing more is owed
    assert trim.trims == 1
    trim.started()  # a task running: not while it runs
    time.sleep(0.3)
    assert trim.trims == 1
    trim.ended()
    wait_until(lambda: trim.trims == 2)
    assert trim.trims == 2


# 2 MB in blocks below the mapping threshold, taken and freed 50 times at the top of the heap, as a worker's feeds
# do: the page faults of the second round, the first having grown the heap.
HEAP_CHURN = """
import resource, sys
from monitor.memory import tune_allocator
assert tune_allocator(trim_threshold=int(sys.argv[1]))
def churn():
    for _ in range(50):
        held = [bytearray(2000) for _ in range(1000)]
        del held
churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
churn()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def heap_churn_faults(trim_threshold: int) -> int:
    done = subprocess.run(
        [sys.executable, "-c", HEAP_CHURN, str(trim_threshold)], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_a_worker_keeps_the_top_of_its_heap_between_feeds() -> None:
    """With the main process's threshold, each round's 2 MB goes back and comes back zeroed (some 25,000 page
    faults); with a worker's, it stays."""
    given_back, kept = heap_churn_faults(TRIM_THRESHOLD), heap_churn_faults(WORKER_TRIM_THRESHOLD)
    assert given_back > 10_000
    assert kept * 10 < given_back
