"""The daemon's heap kept small: glibc's allocator tuned at start, and the memory freed after polls handed back.

A long-running daemon allocates and frees feed bodies, pages and articles of all sizes all day. With glibc's
defaults, its heap stays at its highest point: a freed block of a few hundred kilobytes raises the size under
which later blocks come from the heap rather than from their own mapping, each thread gets a heap (arena) of
its own, and free memory inside a heap is never given back while a block above it lives. So the daemon fixes
the mapping threshold (big blocks always get their own mapping, given back when freed), allows two arenas,
and gives back the free pages of its heap from time to time (``malloc_trim``). Elsewhere (musl, macOS) this
does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("monitor.memory")

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

MMAP_THRESHOLD = 128 * 1024  # glibc's starting value, kept instead of raised as big blocks are freed
TRIM_THRESHOLD = 1024 * 1024  # free memory at the top of the heap beyond this goes back at once
# A worker reading feeds grows and shrinks the top of its heap by a few megabytes a feed: given back at once past
# 1 MB, those pages came back zeroed by the kernel at the next feed (150,000 page faults and 0.3 s of system CPU
# over the farm's 1,000 feeds, 15,000 and 0.05 s with 4 MB kept). Its heap goes back once it is idle (IdleTrim).
WORKER_TRIM_THRESHOLD = 4 * 1024 * 1024
ARENAS = 2


def _libc() -> ctypes.CDLL | None:
    """The C library already linked into this process (no search for its file)."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()


def tune_allocator(trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Fix glibc's mapping and trim thresholds and cap its arenas; True when it took (glibc only). Call once,
    early: the settings apply to what is allocated afterwards. ``trim_threshold``: free memory at the top of
    the heap beyond this goes back at once (``WORKER_TRIM_THRESHOLD`` in a worker process)."""
    if _LIBC is None:
        return False
    settings = ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, trim_threshold), (M_ARENA_MAX, ARENAS))
    done = all(_LIBC.mallopt(ctypes.c_int(key), ctypes.c_int(value)) == 1 for key, value in settings)
    if not done:
        log.debug("the allocator kept some of its defaults")
    return done


def give_back() -> bool:
    """Give the free pages of the heap back to the system; True when some were (glibc only)."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(ctypes.c_size_t(0)))


TRIM_IDLE = 0.5  # seconds a worker is idle before the free pages of its heap go back
_WHEN_IDLE: list[Callable[[], object]] = []


def when_idle(release: Callable[[], object]) -> None:
    """Have ``release`` called too whenever an idle worker gives its heap back (e.g. to unmap a model's pages)."""
    _WHEN_IDLE.append(release)


def trim_due(busy: bool, owed: bool, idle_for: float, after: float = TRIM_IDLE) -> bool:
    """Whether to give the heap's free pages back now: once a task has ended since the last time, and no task has
    run for ``after`` seconds. Never between tasks in a busy spell: the next task would take the same pages
    back, each one zeroed by the kernel again (5-8 % of an extraction's CPU when done after every task)."""
    return owed and not busy and idle_for >= after


class IdleTrim:
    """Tells a thread of its own when tasks start and end; the thread gives the heap's free pages back when
    ``trim_due``. Started at the first task, in the process that runs the tasks."""

    def __init__(self, after: float = TRIM_IDLE) -> None:
        self.after = after
        self.trims = 0
        self._lock = threading.Lock()
        self._busy = False
        self._owed = False
        self._ended = 0.0
        self._thread: threading.Thread | None = None

    def started(self) -> None:
        with self._lock:
            self._busy = True
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="heap-trim", daemon=True)
                self._thread.start()

    def ended(self) -> None:
        with self._lock:
            self._busy, self._owed, self._ended = False, True, time.monotonic()

    def _watch(self) -> None:
        while True:
            time.sleep(self.after)
            with self._lock:
                due = trim_due(self._busy, self._owed, time.monotonic() - self._ended, self.after)
                if due:
                    self._owed = False
            if due:
                give_back()
                for release in _WHEN_IDLE:
                    release()
                self.trims += 1
