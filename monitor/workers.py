"""A small process pool for CPU work, so one slow page never stalls the event loop.

A task past its time budget has its worker process killed and replaced; the caller gets TimeoutError.
The function and its arguments cross a process boundary: they must be picklable (module-level functions).

The pool keeps one worker process, and starts more (up to ``workers``) only while tasks back up waiting for
one; a process beyond the first that has been idle for a while is stopped. An extracting worker holds 50-60 MB
of its own (docs/benchmarks.md, "Daemon memory"), and a daemon between bursts of new entries needs only one.
When to start and stop a process are pure decisions (``should_start``, ``should_stop``).

pebble (5.2) gives up on a pool when its worker process ends abnormally while no task is running ("All workers
expired", seen in a 10,000-feed cycle on a loaded 2-core machine): its threads stop, later tasks are refused and
the tasks still queued are never answered. A waiting task therefore looks at its process every ``HEALTH_CHECK``
seconds and ends with WorkerCrashed when that process's pool broke; a broken process is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from types import TracebackType
from typing import TypeVar, cast

from pebble import ProcessExpired, ProcessPool

from monitor.errors import WorkerCrashed
from monitor.memory import IdleTrim

__all__ = ["WorkerCrashed", "WorkerPool", "should_start", "should_stop"]

T = TypeVar("T")
log = logging.getLogger(__name__)

HEALTH_CHECK = 1.0  # seconds between looks at a task's process while the task waits for its result

# Tasks handed to one process at a time: the next ones are there when it finishes one. Two left a worker waiting
# whenever the main process was slow to hand over the next task (busy matching and storing); three kept both
# workers busy (docs/benchmarks.md, the 10,000-feed cycle).
DEPTH = 3
# Tasks a worker process runs before it is replaced, which returns the memory its heap left fragmented. A
# replacement stops that worker for about 0.15 s (pebble looks for the ended process every 0.1 s): every 1,000
# tasks that was about 3 % of a worker's time on feeds.
MAX_TASKS = 5_000
BACKLOG = 32  # tasks waiting for a process that start another at once (more than a poll wave's pages)
WAITED = 2.0  # seconds the longest-waiting task may wait before another process is started
IDLE = 20.0  # seconds a process beyond the first stays idle before it is stopped


def should_start(running: int, limit: int, waiting: int, longest_wait: float) -> bool:
    """Whether to start another worker process: only while tasks wait for one and fewer than ``limit`` run, and
    then at once when none runs, or when the tasks have backed up (``BACKLOG`` waiting, or one of them waiting
    ``WAITED`` seconds); a brief queue behind a busy process is cheaper than a process more."""
    if waiting <= 0 or running >= limit:
        return False
    return running == 0 or waiting >= BACKLOG or longest_wait >= WAITED


def should_stop(running: int, keep: int, idle_for: float, idle_after: float = IDLE) -> bool:
    """Whether a worker process idle for ``idle_for`` seconds is stopped: when more than ``keep`` run and it has
    been idle ``idle_after`` seconds."""
    return running > keep and idle_for >= idle_after


@dataclass(eq=False)
class _Process:
    """One worker process (a pebble pool of one, so that it can be stopped alone) and its tasks in flight."""

    pool: ProcessPool
    tasks: int = 0
    idle_since: float = field(default_factory=time.monotonic)


class WorkerPool:
    """Runs functions in up to `workers` processes; `workers=0` runs them inline in a thread (no kill, for
    tests)."""

    def __init__(
        self,
        workers: int = 2,
        *,
        initializer: Callable[[], object] | None = None,
        preload: Sequence[str] = (),
        max_tasks: int = MAX_TASKS,
        keep: int = 1,
        idle_after: float = IDLE,
    ) -> None:
        """``preload``: modules the fork server imports once, so every worker shares their memory instead of
        importing its own copy. ``max_tasks``: a worker is replaced after that many tasks, which returns the
        memory large pages left fragmented. ``keep``: processes kept running when idle (at most ``workers``), the others stopped after
        ``idle_after`` idle seconds."""
        self.workers = workers
        self.keep = min(keep, workers)
        self.idle_after = idle_after
        self._initializer = initializer
        self._max_tasks = max_tasks
        self._context: BaseContext | None = None
        self._processes: list[_Process] = []
        self._stopping: list[threading.Thread] = []
        self._waiters: deque[tuple[float, asyncio.Future[_Process]]] = deque()
        self._closed = False
        if workers > 0:
            # forkserver: workers start from a clean process, not a fork of one running threads and a loop.
            self._context = multiprocessing.get_context("forkserver")
            if preload:
                self._context.set_forkserver_preload(list(preload))
        elif initializer is not None:
            initializer()

    @property
    def running(self) -> int:
        """Worker processes running now (0 for the inline pool)."""
        return len(self._processes)

    @property
    def waiting(self) -> int:
        """Tasks waiting for room in a worker process."""
        return sum(1 for _, waiter in self._waiters if not waiter.done())

    async def run(self, fn: Callable[..., T], *args: object, timeout: float) -> T:
        """Run fn(*args) within `timeout` seconds; re-raises what fn raised, TimeoutError past the budget."""
        if self._context is None:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args), timeout)
        process = await self._take()
        pool = process.pool
        try:
            future = cast("Future[T]", pool.schedule(_then_give_back, args=(fn, *args), timeout=timeout))
            waiting = asyncio.wrap_future(future)
            try:
                while not waiting.done():
                    await asyncio.wait({waiting}, timeout=HEALTH_CHECK)
                    if not waiting.done() and not pool.active:
                        raise WorkerCrashed(f"the worker pool broke while {_name(fn)} waited for its result")
                return waiting.result()
            finally:
                # Cancelling the pebble future (this task cancelled, or the pool broken) stops its worker.
                waiting.cancel()
        except ProcessExpired as exc:
            raise WorkerCrashed(f"worker process died running {_name(fn)}: {exc}") from None
        finally:
            self._give(process)

    async def start(self) -> None:
        """Start the processes kept running now (the fork server loading its preloaded modules first), so that
        the first tasks do not wait for it."""
        if self._context is not None:
            while len(self._processes) < self.keep:
                self._processes.append(self._new_process())
            await asyncio.gather(
                *(asyncio.wrap_future(p.pool.schedule(_ready, timeout=120)) for p in self._processes)
            )

    def close(self) -> None:
        """Stop the workers; running tasks are abandoned (their callers should have finished first)."""
        self._closed = True
        processes, self._processes = self._processes, []
        for process in processes:
            process.pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
        for process in processes:
            process.pool.join(timeout=10)
        for thread in self._stopping:
            thread.join(timeout=10)
        self._stopping.clear()
        for _, waiter in self._waiters:
            waiter.cancel()
        self._waiters.clear()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- handing tasks to processes -------------------------------------------------------------------

    async def _take(self) -> _Process:
        """A process with room for one more task: the oldest one with room, a new one when the tasks have backed
        up, or the first to finish one (in the order the tasks came)."""
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        self._drop_broken()
        process = self._first_free()
        if process is not None and not self._waiters:
            process.tasks += 1
            return process
        arrived = time.monotonic()
        waiter: asyncio.Future[_Process] = asyncio.get_running_loop().create_future()
        self._waiters.append((arrived, waiter))
        try:
            while not waiter.done():
                self._start_if_backed_up()
                await asyncio.wait([waiter], timeout=WAITED)
            return waiter.result()
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._give(waiter.result())  # handed a process just as it was cancelled: pass it on
            else:
                self._forget(waiter)
            raise

    def _give(self, process: _Process) -> None:
        """A task of ``process`` finished: its room goes to the first task waiting, if any."""
        process.tasks -= 1
        if process.tasks == 0:
            process.idle_since = time.monotonic()
        if process not in self._processes:
            return
        if not process.pool.active:  # pebble gave up on it: start afresh
            self._drop_broken()
            self._start_if_backed_up()
            return
        self._hand_waiters(process)
        if process.tasks == 0 and len(self._processes) > self.keep:
            self._stop_idle_later()

    def _hand_waiters(self, process: _Process) -> None:
        """Give ``process`` the first tasks waiting, up to ``DEPTH`` in all."""
        while self._waiters and process.tasks < DEPTH:
            _, waiter = self._waiters.popleft()
            if not waiter.done():
                process.tasks += 1
                waiter.set_result(process)

    def _drop_broken(self) -> None:
        """Retire the processes whose pebble pool gave up (its worker could not start, or ended abnormally while
        idle): a task given to one would never end."""
        for process in [p for p in self._processes if not p.pool.active]:
            log.error(
                "a worker process's pool broke (its worker ended or could not start): starting a new one"
            )
            self._processes.remove(process)
            self._retire(process)

    def _first_free(self) -> _Process | None:
        """The oldest process with room: under a light load the others stay idle, and are stopped."""
        return next((p for p in self._processes if p.tasks < DEPTH), None)

    def _start_if_backed_up(self) -> None:
        waiting = [(arrived, w) for arrived, w in self._waiters if not w.done()]
        if not waiting:
            return
        longest = time.monotonic() - waiting[0][0]
        if should_start(len(self._processes), self.workers, len(waiting), longest):
            process = self._new_process()
            self._processes.append(process)
            self._hand_waiters(process)

    def _forget(self, waiter: asyncio.Future[_Process]) -> None:
        self._waiters = deque((a, w) for a, w in self._waiters if w is not waiter)

    def _new_process(self) -> _Process:
        context = cast("BaseContext", self._context)  # only pools with processes start one
        pool = ProcessPool(
            max_workers=1, max_tasks=self._max_tasks, initializer=self._initializer, context=context
        )
        return _Process(pool)

    # ---- stopping idle processes ----------------------------------------------------------------------

    def _stop_idle_later(self) -> None:
        """Check for idle processes to stop once they could have been idle long enough."""
        with contextlib.suppress(RuntimeError):  # no loop running: the next task's end checks again
            asyncio.get_running_loop().call_later(self.idle_after + 0.1, self.stop_idle)

    def stop_idle(self) -> int:
        """Stop the processes beyond ``keep`` that have been idle long enough (the longest idle first); how
        many were stopped. Each is joined in a thread of its own, so the event loop never waits for one."""
        stopped = 0
        now = time.monotonic()
        for process in sorted(self._processes, key=lambda p: p.idle_since):
            if process.tasks == 0 and should_stop(
                len(self._processes), self.keep, now - process.idle_since, self.idle_after
            ):
                self._processes.remove(process)
                self._retire(process)
                stopped += 1
        return stopped

    def _retire(self, process: _Process) -> None:
        process.pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
        thread = threading.Thread(target=process.pool.join, name="worker-stop", daemon=True)
        thread.start()
        self._stopping = [t for t in self._stopping if t.is_alive()] + [thread]


def _then_give_back(fn: Callable[..., T], *args: object) -> T:
    """fn(*args) in a worker; the heap's free pages are handed back once the worker has been idle a moment
    (``memory.IdleTrim``): an extraction frees most of what it allocated, but glibc keeps it."""
    _IDLE_TRIM.started()
    try:
        return fn(*args)
    finally:
        _IDLE_TRIM.ended()


_IDLE_TRIM = IdleTrim()


def _ready() -> bool:
    return True


def _name(fn: Callable[..., object]) -> str:
    return getattr(fn, "__qualname__", repr(fn))
