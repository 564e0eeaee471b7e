"""A size in bytes as a person most likely wrote it (a config limit, a body cap in an error message)."""

from __future__ import annotations

_DECIMAL = (("GB", 10**9), ("MB", 10**6), ("KB", 10**3))
_BINARY = (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))


def format_size(size: int) -> str:
    """Bytes in the units they were most likely written in: 10000000 -> "10 MB", 5242880 -> "5 MiB"."""
    units = _BINARY if size % 1000 and size % 256 == 0 else _DECIMAL
    for unit, factor in units:
        if size >= factor:
            return f"{size / factor:.4g} {unit}"
    return f"{size} bytes"
