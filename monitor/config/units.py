"""Durations ("15m", "1h30m") and sizes ("10MB", "5MiB") as the config file writes them."""

from __future__ import annotations

import re

from monitor.sizes import format_size as format_size  # the config shows sizes as they are written

# --- durations and sizes ------------------------------------------------------------------------------------

DEFAULT_SILENT_AFTER = 7 * 86400.0  # [monitor] silent_after: a feed with no new entry for this long is silent
SILENT_AFTER_RANGE = (0.001, 366 * 86400.0)

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_duration(text: str) -> float:
    """Seconds in ``text``: "30s", "15m", "1h30m", "3d", "1w", "250ms"; a plain number is seconds."""
    compact = text.strip().replace(" ", "")
    if _NUMBER.fullmatch(compact):
        return float(compact)
    parts = _DURATION_PART.findall(compact)
    if not compact or "".join(number + unit for number, unit in parts) != compact:
        raise ValueError(f"bad duration {text!r} (use e.g. 30s, 15m, 2h, 1d)")
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def format_duration(seconds: float) -> str:
    """The shortest way ``parse_duration`` reads back: 90 -> "1m30s", 5 -> "5s", 0.25 -> "0.25s"."""
    if seconds != int(seconds) or seconds < 1:
        return f"{seconds:g}s"
    rest, text = int(seconds), ""
    for unit in ("w", "d", "h", "m", "s"):
        count, rest = divmod(rest, int(_DURATION_UNITS[unit]))
        text += f"{count}{unit}" if count else ""
    return text or "0s"


_SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


def parse_size(text: str) -> int:
    """Bytes in ``text``: "10MB" (decimal), "5MiB" (binary), "512KB", "800B"; a plain integer is bytes."""
    found = _SIZE.fullmatch(text.strip().lower())
    if not found or found.group(2) not in _SIZE_UNITS:
        raise ValueError(f"bad size {text!r} (use e.g. 512KB, 10MB, 5MiB)")
    return int(float(found.group(1)) * _SIZE_UNITS[found.group(2)])
