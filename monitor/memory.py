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

log = logging.getLogger("monitor.memory")

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

MMAP_THRESHOLD = 128 * 1024  # glibc's starting value, kept instead of raised as big blocks are freed
TRIM_THRESHOLD = 1024 * 1024  # free memory at the top of the heap beyond this goes back at once
ARENAS = 2


def _libc() -> ctypes.CDLL | None:
    """The C library already linked into this process (no search for its file)."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()


def tune_allocator() -> bool:
    """Fix glibc's mapping and trim thresholds and cap its arenas; True when it took (glibc only). Call once,
    early: the settings apply to what is allocated afterwards."""
    if _LIBC is None:
        return False
    settings = ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD), (M_ARENA_MAX, ARENAS))
    done = all(_LIBC.mallopt(ctypes.c_int(key), ctypes.c_int(value)) == 1 for key, value in settings)
    if not done:
        log.debug("the allocator kept some of its defaults")
    return done


def give_back() -> bool:
    """Give the free pages of the heap back to the system; True when some were (glibc only)."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(ctypes.c_size_t(0)))
