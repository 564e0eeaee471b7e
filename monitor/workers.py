"""A small process pool for CPU work, so one slow page never stalls the event loop.

A task past its time budget has its worker process killed and replaced; the caller gets TimeoutError.
The function and its arguments cross a process boundary: they must be picklable (module-level functions).
"""

from __future__ import annotations

import asyncio
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
        self._pool: ProcessPool | None = None
        if workers > 0:
            # forkserver: workers start from a clean process, not a fork of one running threads and a loop.
            context = multiprocessing.get_context("forkserver")
            if preload:
                context.set_forkserver_preload(list(preload))
            self._pool = ProcessPool(
                max_workers=workers, max_tasks=max_tasks, initializer=initializer, context=context
            )
        elif initializer is not None:
            initializer()

    async def run(self, fn: Callable[..., T], *args: object, timeout: float) -> T:
        """Run fn(*args) within `timeout` seconds; re-raises what fn raised, TimeoutError past the budget."""
        if self._pool is None:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args), timeout)
        future = cast("Future[T]", self._pool.schedule(_then_give_back, args=(fn, *args), timeout=timeout))
        try:
            # Cancelling the awaiting task cancels the pebble future, which stops the worker.
            return await asyncio.wrap_future(future)
        except ProcessExpired as exc:
            raise WorkerCrashed(f"worker process died running {_name(fn)}: {exc}") from None

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
