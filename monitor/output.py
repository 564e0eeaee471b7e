"""Rendering rows for the terminal: aligned tables, JSON Lines and CSV.

Tables show feed text without control characters, escape sequences or bidi overrides; CSV cells that a
spreadsheet would run as formulas start with ``'``; JSON stays faithful (its encoding escapes controls).
Remembered secrets are masked in all three."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from monitor.redact import mask_data, mask_known
from monitor.untrusted import csv_cell, printable


def show(value: Any) -> str:
    """A value as table or CSV text, with remembered secrets masked."""
    return mask_known(_text(value))


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], widths: Mapping[str, int] | None = None
) -> str:
    """A plain aligned table; long cells are cut to ``widths[column]`` characters."""
    widths = widths or {}
    cells = [[_cut(printable(show(row.get(c))), widths.get(c)) for c in columns] for row in rows]
    sizes = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(s) for c, s in zip(columns, sizes, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(s) for v, s in zip(r, sizes, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def json_lines(rows: Sequence[Mapping[str, Any]]) -> str:
    # Masked before encoding, so that JSON's escaping cannot hide a secret from the mask.
    return "\n".join(json.dumps(mask_data(row), default=_json_default, ensure_ascii=False) for row in rows)


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(show(row.get(c))) if row.get(c) is not None else "" for c in columns])
    return buffer.getvalue().rstrip("\n")


def _cut(text: str, width: int | None) -> str:
    text = " ".join(text.split())
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
