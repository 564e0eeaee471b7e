"""What the benchmark scenarios share: the corpus texts, SQLite databases built in bulk through the real
migrations, the machine's description, and writing their results and their section of docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import platform
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from monitor.store import Store

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("MONITOR_CORPUS", ROOT.parent / "shared" / "corpus"))
NEWS = CORPUS / "news-text" / "finescoop-2020.jsonl"


def corpus_texts() -> list[dict[str, str]]:
    """The corpus news texts (title, summary, body), one a line of the JSON Lines file."""
    with NEWS.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def in_batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter), for bulk inserts."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def build_database(path: Path, fill: Callable[[Store], T], analyze: bool = False) -> tuple[T, int]:
    """Make a SQLite database at ``path`` (the real migrations make the schema), let ``fill`` write into it,
    close it and settle it (``settled_size``): what ``fill`` returned, and the file's size in bytes."""
    store = Store.open(f"sqlite:///{path}")
    try:
        filled = fill(store)
    finally:
        store.close()
    return filled, settled_size(path, analyze)


def settled_size(path: Path, analyze: bool = False) -> int:
    """The size of the SQLite database at ``path`` once its write-ahead log is folded in; with ``analyze``, the
    planner's statistics are gathered first, as the daemon's housekeeping keeps them."""
    connection = sqlite3.connect(path)
    if analyze:
        connection.execute("ANALYZE")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path.stat().st_size


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def conditions(load_before: list[float]) -> dict[str, Any]:
    """What a result is measured under: the machine, and the load average before the run and now."""
    return {"machine": machine(), "load_before": load_before, "load_after": load_average()}


def publish(results: Path, doc: Path, result: dict[str, Any], section: str) -> None:
    """Keep ``result`` as JSON at ``results``, put ``section`` into ``doc`` and show it."""
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, indent=2), encoding="utf-8")
    write_section(doc, section)
    print(section)


def write_section(doc: Path, section: str) -> None:
    """Replace the section of ``doc`` that starts with ``section``'s own "## " heading (or add it), keeping
    every other section."""
    heading = section.splitlines()[0]
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text, encoding="utf-8")
