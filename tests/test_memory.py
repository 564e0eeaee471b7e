"""When a worker gives its heap's free pages back: once idle for a moment, never between tasks of a busy spell."""

from __future__ import annotations

import time
from collections.abc import Callable

from monitor.memory import TRIM_IDLE, IdleTrim, trim_due


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
