"""The worker pool with real processes: budgets kill, exceptions come back, the pool keeps working."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
from pebble.pool.base_pool import PoolStatus

from monitor.errors import ExtractError
from monitor.workers import (
    BACKLOG,
    DEPTH,
    IDLE,
    WAITED,
    WorkerCrashed,
    WorkerPool,
    should_start,
    should_stop,
)


# Tasks run in other processes, so they live at module level where a worker can import them.
def square(n: int) -> int:
    return n * n


def pid() -> int:
    return os.getpid()


def sleep_then_return(seconds: float) -> str:
    time.sleep(seconds)
    return "finished"


def fail(url: str) -> None:
    raise ExtractError(url, "no main text found")


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def end_when_idle(after: float) -> bool:
    """Ends this worker process abnormally ``after`` seconds from now, once its task is over."""
    threading.Timer(after, os._exit, (3,)).start()
    return True


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(workers=1) as pool:
        yield pool


def test_runs_a_function_in_another_process(pool: WorkerPool) -> None:
    assert asyncio.run(pool.run(square, 7, timeout=10)) == 49
    assert asyncio.run(pool.run(pid, timeout=10)) != os.getpid()


def test_task_past_its_budget_is_killed_and_the_pool_still_works(pool: WorkerPool) -> None:
    before = asyncio.run(pool.run(pid, timeout=10))
    with pytest.raises(TimeoutError):
        asyncio.run(pool.run(sleep_then_return, 60, timeout=0.3))
    after = asyncio.run(pool.run(pid, timeout=10))
    assert after != before  # the only worker was replaced
    assert asyncio.run(pool.run(square, 3, timeout=10)) == 9


def test_the_task_exception_comes_back_with_its_fields(pool: WorkerPool) -> None:
    with pytest.raises(ExtractError) as caught:
        asyncio.run(pool.run(fail, "https://example.org/a", timeout=10))
    assert (caught.value.url, caught.value.reason) == ("https://example.org/a", "no main text found")


def test_a_worker_that_dies_is_reported_and_replaced(pool: WorkerPool) -> None:
    with pytest.raises(WorkerCrashed, match="worker process died running die"):
        asyncio.run(pool.run(die, timeout=10))
    assert asyncio.run(pool.run(square, 4, timeout=10)) == 16


def test_concurrent_tasks_share_the_workers() -> None:
    async def go(pool: WorkerPool) -> list[int]:
        return await asyncio.gather(*(pool.run(square, n, timeout=10) for n in range(8)))

    with WorkerPool(workers=2) as pool:
        assert asyncio.run(go(pool)) == [n * n for n in range(8)]


def test_initializer_runs_in_the_inline_pool() -> None:
    calls: list[str] = []
    WorkerPool(workers=0, initializer=lambda: calls.append("warm"))
    assert calls == ["warm"]


def test_inline_pool_runs_in_this_process_and_keeps_budgets() -> None:
    pool = WorkerPool(workers=0)
    assert asyncio.run(pool.run(pid, timeout=10)) == os.getpid()
    with pytest.raises(ExtractError):
        asyncio.run(pool.run(fail, "https://example.org/a", timeout=10))
    with pytest.raises(TimeoutError):
        asyncio.run(pool.run(sleep_then_return, 0.2, timeout=0.02))
    pool.close()


# ---- how many processes run: the decisions, then the pool -------------------------------------------------


def test_no_process_is_started_while_no_task_waits() -> None:
    assert not should_start(running=1, limit=2, waiting=0, longest_wait=60.0)
    assert not should_start(running=0, limit=2, waiting=0, longest_wait=0.0)


def test_the_first_process_starts_for_the_first_waiting_task() -> None:
    assert should_start(running=0, limit=2, waiting=1, longest_wait=0.0)


def test_another_process_starts_only_once_the_tasks_back_up() -> None:
    assert not should_start(running=1, limit=2, waiting=BACKLOG - 1, longest_wait=WAITED - 0.01)
    assert should_start(running=1, limit=2, waiting=BACKLOG, longest_wait=0.0)
    assert should_start(running=1, limit=2, waiting=1, longest_wait=WAITED)


def test_never_more_processes_than_the_limit() -> None:
    assert not should_start(running=2, limit=2, waiting=100, longest_wait=60.0)
    assert not should_start(running=0, limit=0, waiting=1, longest_wait=0.0)


def test_an_idle_process_beyond_those_kept_stops_after_its_idle_time() -> None:
    assert not should_stop(running=2, keep=1, idle_for=IDLE - 0.01)
    assert should_stop(running=2, keep=1, idle_for=IDLE)
    assert should_stop(running=3, keep=1, idle_for=5.0, idle_after=5.0)


def test_the_processes_kept_never_stop() -> None:
    assert not should_stop(running=1, keep=1, idle_for=IDLE * 100)
    assert not should_stop(running=2, keep=2, idle_for=IDLE * 100)


def alive(process_id: int) -> bool:
    try:
        os.kill(process_id, 0)
    except ProcessLookupError:
        return False
    return True


def test_tasks_one_at_a_time_keep_a_single_process() -> None:
    async def go(pool: WorkerPool) -> set[int]:
        await pool.start()
        return {await pool.run(pid, timeout=10) for _ in range(6)}

    with WorkerPool(workers=2) as pool:
        assert len(asyncio.run(go(pool))) == 1
        assert pool.running == 1


def test_a_backlog_starts_a_second_process_which_stops_when_idle() -> None:
    async def go(pool: WorkerPool) -> list[str]:
        await pool.start()
        return await asyncio.gather(
            *(pool.run(sleep_then_return, 0.05, timeout=30) for _ in range(BACKLOG + 4))
        )

    with WorkerPool(workers=2, idle_after=3600) as pool:
        assert asyncio.run(go(pool)) == ["finished"] * (BACKLOG + 4)
        assert pool.running == 2
        started = asyncio.run(_pids(pool))
        assert pool.stop_idle() == 0  # not idle for long enough
        pool.idle_after = 0.0
        assert pool.stop_idle() == 1 and pool.running == 1
        [kept] = asyncio.run(_pids(pool)) & started  # the process kept is one of the two
        for thread in pool._stopping:
            thread.join(timeout=10)
        assert [alive(p) for p in sorted(started)].count(True) == 1 and alive(kept)


def test_a_process_is_idle_from_the_end_of_its_last_task_not_from_its_start() -> None:
    """A second process whose tasks end one after another is not stopped as soon as its last one ends: its idle
    time is counted from then, not from the end of the task before."""

    async def go(pool: WorkerPool) -> None:
        await pool.start()
        # a backlog of quick tasks starts the second process; then each process runs DEPTH slow tasks in turn
        await asyncio.gather(*(pool.run(sleep_then_return, 0.01, timeout=30) for _ in range(BACKLOG + 4)))
        await asyncio.gather(*(pool.run(sleep_then_return, 0.6, timeout=30) for _ in range(2 * DEPTH)))

    with WorkerPool(workers=2, idle_after=3600) as pool:
        asyncio.run(go(pool))
        assert pool.running == 2
        pool.idle_after = 0.4  # less than a slow task took, more than the processes have been idle
        assert pool.stop_idle() == 0
        time.sleep(0.5)
        assert pool.stop_idle() == 1 and pool.running == 1
        for thread in pool._stopping:
            thread.join(timeout=10)


def test_an_extra_process_left_idle_stops_by_itself_after_its_idle_time() -> None:
    async def go(pool: WorkerPool) -> tuple[int, int]:
        await pool.start()
        await asyncio.gather(*(pool.run(sleep_then_return, 0.01, timeout=30) for _ in range(BACKLOG + 4)))
        started = pool.running
        await asyncio.sleep(0.6)  # the check its last task's end set for after the idle time has run
        return started, pool.running

    with WorkerPool(workers=2, idle_after=0.2) as pool:
        assert asyncio.run(go(pool)) == (2, 1)
        for thread in pool._stopping:
            thread.join(timeout=10)


async def _pids(pool: WorkerPool) -> set[int]:
    return set(await asyncio.gather(*(pool.run(pid, timeout=10) for _ in range(4))))


def test_a_task_cancelled_while_it_waits_takes_no_room() -> None:
    async def go(pool: WorkerPool) -> int:
        await pool.start()
        busy = [asyncio.ensure_future(pool.run(sleep_then_return, 0.3, timeout=30)) for _ in range(DEPTH)]
        await asyncio.sleep(0)
        waiting = asyncio.ensure_future(pool.run(square, 5, timeout=30))
        await asyncio.sleep(0.05)
        waiting.cancel()
        await asyncio.gather(*busy)
        return await pool.run(square, 6, timeout=30)

    with WorkerPool(workers=1) as pool:
        assert asyncio.run(go(pool)) == 36
        assert pool.running == 1


def test_a_process_is_handed_depth_tasks_and_the_next_one_waits() -> None:
    async def go(pool: WorkerPool) -> tuple[list[int], list[str]]:
        await pool.start()
        tasks = [
            asyncio.ensure_future(pool.run(sleep_then_return, 0.3, timeout=30)) for _ in range(DEPTH + 1)
        ]
        seen = []
        for _ in range(3):
            await asyncio.sleep(0.05)
            seen.append(pool.waiting)
        return seen, await asyncio.gather(*tasks)

    with WorkerPool(workers=1) as pool:
        seen, results = asyncio.run(go(pool))
        assert seen == [1, 1, 1]  # DEPTH of them handed to the one process at once, the last one waiting
        assert results == ["finished"] * (DEPTH + 1) and pool.waiting == 0


def test_a_finished_task_hands_its_room_to_one_waiting_task_not_more() -> None:
    """The process holds DEPTH tasks at most: when one ends, the first task waiting takes its place and the next
    one still waits."""

    async def go(pool: WorkerPool) -> tuple[int, list[str]]:
        await pool.start()
        quick = asyncio.ensure_future(pool.run(sleep_then_return, 0.05, timeout=30))
        slow = [asyncio.ensure_future(pool.run(sleep_then_return, 0.8, timeout=30)) for _ in range(DEPTH + 1)]
        await asyncio.sleep(0.01)
        assert pool.waiting == 2
        await quick  # its room is handed on as it ends; the first slow one runs
        await asyncio.sleep(0.05)
        return pool.waiting, await asyncio.gather(quick, *slow)

    with WorkerPool(workers=1) as pool:
        waiting, results = asyncio.run(go(pool))
        assert waiting == 1
        assert results == ["finished"] * (DEPTH + 2) and pool.waiting == 0


def test_a_worker_process_is_replaced_after_its_task_limit() -> None:
    async def go(pool: WorkerPool) -> list[int]:
        await pool.start()
        return [await pool.run(pid, timeout=10) for _ in range(5)]

    with WorkerPool(workers=1, max_tasks=2) as pool:
        pids = asyncio.run(go(pool))
    # start()'s readiness check is the first process's first task: it runs one of ours, then each runs two
    assert pids[0] != pids[1] == pids[2] != pids[3] == pids[4]
    assert len(set(pids)) == 3


def test_the_processes_kept_all_start_with_the_pool() -> None:
    async def go(pool: WorkerPool) -> set[int]:
        await pool.start()
        return await _pids(pool)

    with WorkerPool(workers=3, keep=2) as pool:
        assert len(asyncio.run(go(pool))) == 2
        assert pool.running == 2
        pool.idle_after = 0.0
        assert pool.stop_idle() == 0  # both kept, however long idle


def test_a_worker_that_ends_abnormally_while_idle_breaks_no_later_task() -> None:
    with WorkerPool(workers=1) as pool:
        worker = asyncio.run(pool.run(pid, timeout=10))
        assert asyncio.run(pool.run(end_when_idle, 0.2, timeout=10))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.path.exists(f"/proc/{worker}"):
            time.sleep(0.05)
        time.sleep(0.5)  # pebble looks at its workers every 0.1 s: it has given up on its pool by now
        assert asyncio.run(pool.run(square, 5, timeout=10)) == 25
        assert asyncio.run(pool.run(pid, timeout=10)) != worker


def test_tasks_waiting_when_the_pool_breaks_end_with_worker_crashed() -> None:
    async def go(pool: WorkerPool) -> list[BaseException | str | int]:
        running = asyncio.ensure_future(pool.run(sleep_then_return, 30, timeout=60))
        queued = asyncio.ensure_future(pool.run(sleep_then_return, 30, timeout=60))
        await asyncio.sleep(0.5)
        [process] = pool._processes
        process.pool._context.status = PoolStatus.ERROR  # pebble's state after "All workers expired"
        done = await asyncio.wait_for(asyncio.gather(running, queued, return_exceptions=True), 10)
        return [*done, await pool.run(square, 7, timeout=10)]

    with WorkerPool(workers=1) as pool:
        running, queued, later = asyncio.run(go(pool))
    assert isinstance(running, WorkerCrashed) and isinstance(queued, WorkerCrashed)
    assert "the worker pool broke while sleep_then_return waited for its result" in str(queued)
    assert later == 49
