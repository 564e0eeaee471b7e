"""Who holds a claim (a delivery being sent), and whether that holder is gone.

An owner id is ``host:pid:start``, where ``start`` is when that process started (the kernel's start time
from /proc, so that a reused pid is a different owner). A claim of a process on this host that no longer
runs, or whose pid now belongs to another process, is released at once; a claim of another host's process
cannot be checked from here and is left to its expiry (``claimed_until``).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

_IMPORTED_AT = f"t{int(time.time() * 1000)}"


def process_start(pid: int) -> str | None:
    """A token for when process ``pid`` started, or None when no such process runs."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        stat = ""
    return start_field(stat) or _exists_token(pid)


def start_field(stat: str) -> str | None:
    """The start time in a /proc/PID/stat line (field 22: clock ticks after boot), or None when it has none.
    The fields are counted after the command's closing parenthesis, since a command may hold spaces and ")"."""
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def _exists_token(pid: int) -> str | None:
    """Without /proc, only whether the pid runs: "*" matches any start."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return "*"
    return "*"


@cache
def current_owner() -> str:
    """This process's owner id."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{process_start(pid) or _IMPORTED_AT}"


def owner_gone(owner: str, this_host: str, start_of: Callable[[int], str | None]) -> bool:
    """Whether the process that ``owner`` names has certainly stopped. ``start_of(pid)`` is the start token of
    the process now running under that pid on this host (None: none runs)."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False  # not an id this program wrote: leave it to its expiry
    host, pid, start = parts
    if host != this_host:
        return False
    now_running = start_of(int(pid))
    if now_running is None:
        return True
    return "*" not in (now_running, start) and now_running != start
