"""A small process pool for CPU work, so one slow page never stalls the event loop.

A task past its time budget has its worker process killed and replaced; the caller gets TimeoutError.
The function and its arguments cross a process boundary: they must be picklable (module-level functions).

pebble (5.2) gives up on its whole pool when a worker process ends abnormally while no task is running on any
worker ("All workers expired", seen in a 10,000-feed cycle on the loaded 2-core machine): its threads stop, every
later task is refused, and the tasks still queued are never answered, so their polls wait forever. A waiting task
therefore looks at the pool every ``HEALTH_CHECK`` seconds and ends with WorkerCrashed when it broke, and the next
task starts a new pool.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import TypeVar, cast

from pebble import ProcessExpired, ProcessPool

from monitor.errors import WorkerCrashed
from monitor.memory import give_back

__all__ = ["WorkerCrashed", "WorkerPool"]

T = TypeVar("T")
log = logging.getLogger(__name__)

HEALTH_CHECK = 1.0  # seconds between looks at the pool while a task waits for its result


class WorkerPool:
    """Runs functions in `workers` processes; `workers=0` runs them inline in a thread (no kill, for tests)."""

    def __init__(
        self,
        workers: int = 2,
        *,
        initializer: Callable[[], object] | None = None,
        preload: Sequence[str] = (),
        max_tasks: int = 1000,
    ) -> None:
        """``preload``: modules the fork server imports once, so every worker shares their memory instead of
        importing its own copy. ``max_tasks``: a worker is replaced after that many tasks, which returns the
        memory large pages left fragmented."""
        self.workers = workers
        self._max_tasks, self._initializer = max_tasks, initializer
        self._pool: ProcessPool | None = None
        if workers > 0:
            # forkserver: workers start from a clean process, not a fork of one running threads and a loop.
            self._context = multiprocessing.get_context("forkserver")
            if preload:
                self._context.set_forkserver_preload(list(preload))
            self._pool = self._new_pool()
        elif initializer is not None:
            initializer()

    def _new_pool(self) -> ProcessPool:
        return ProcessPool(
            max_workers=self.workers,
            max_tasks=self._max_tasks,
            initializer=self._initializer,
            context=self._context,
        )

    async def run(self, fn: Callable[..., T], *args: object, timeout: float) -> T:
        """Run fn(*args) within `timeout` seconds; re-raises what fn raised, TimeoutError past the budget."""
        if self._pool is None:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args), timeout)
        if not self._pool.active:
            self._replace_broken_pool()
        pool = self._pool
        future = cast("Future[T]", pool.schedule(_then_give_back, args=(fn, *args), timeout=timeout))
        waiting = asyncio.wrap_future(future)
        try:
            while not waiting.done():
                await asyncio.wait({waiting}, timeout=HEALTH_CHECK)
                if not waiting.done() and not pool.active:
                    raise WorkerCrashed(f"the worker pool broke while {_name(fn)} waited for its result")
            return waiting.result()
        except ProcessExpired as exc:
            raise WorkerCrashed(f"worker process died running {_name(fn)}: {exc}") from None
        finally:
            # Cancelling the pebble future (this task cancelled, or the pool broken) stops its worker.
            waiting.cancel()

    def _replace_broken_pool(self) -> None:
        assert self._pool is not None
        log.error("the worker pool broke (a worker process ended abnormally while idle): starting a new one")
        broken, self._pool = self._pool, self._new_pool()
        broken.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
        broken.join(timeout=10)

    async def start(self) -> None:
        """Start every worker now (the fork server loading its preloaded modules first), so that the first
        tasks do not wait for it."""
        if self._pool is not None:
            await asyncio.gather(*(self.run(_ready, timeout=120) for _ in range(self.workers)))

    def close(self) -> None:
        """Stop the workers; running tasks are abandoned (their callers should have finished first)."""
        if self._pool is not None:
            self._pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
            self._pool.join(timeout=10)
            self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _then_give_back(fn: Callable[..., T], *args: object) -> T:
    """fn(*args) in a worker, then the heap's free pages handed back (about 0.1 ms): an extraction frees most of
    what it allocated, but glibc keeps it, and a worker's memory would stay at its largest page's."""
    try:
        return fn(*args)
    finally:
        give_back()


def _ready() -> bool:
    return True


def _name(fn: Callable[..., object]) -> str:
    return getattr(fn, "__qualname__", repr(fn))
