"""What the benchmark scenarios share: writing their section of docs/benchmarks.md."""

from __future__ import annotations

import re
from pathlib import Path


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
