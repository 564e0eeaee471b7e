"""Snippets: about 200 characters of the original text around what matched, cut at word boundaries.

Marks are offsets of the matched words inside the snippet text. They come from the word spans of the original
text, so they stay right where folding changes length (İ, ß, ligatures).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from monitor.models import Snippet

from .fold import FoldedField

SNIPPET_CHARS = 200
MAX_SNIPPETS = 3
_LEAD_CHARS = 60  # context kept before the first mark


@dataclass(frozen=True, slots=True)
class Evidence:
    """A clause that held, the field it held in, and the word ranges (first, last) it covered there."""

    label: str
    field: str
    occurrences: list[tuple[int, int]]


def build_snippets(evidence: list[Evidence], folded: Mapping[str, FoldedField]) -> tuple[Snippet, ...]:
    """Up to three snippets: the first occurrence of each clause first, then further occurrences."""
    marks = _ordered_marks(evidence, folded)
    snippets: list[Snippet] = []
    covered: list[tuple[str, int, int]] = []
    for name, start, end in marks:
        if len(snippets) == MAX_SNIPPETS:
            break
        if any(name == c_name and c_start <= start and end <= c_end for c_name, c_start, c_end in covered):
            continue
        text = folded[name].original
        window_start, window_end = _window(text, start, end)
        inside = sorted(
            {
                (s - window_start, e - window_start)
                for n, s, e in marks
                if n == name and window_start <= s and e <= window_end
            }
        )
        snippet_text = text[window_start:window_end].replace("\n", " ").replace("\r", " ").replace("\t", " ")
        snippets.append(Snippet(name, snippet_text, tuple(inside)))
        covered.append((name, window_start, window_end))
    return tuple(snippets)


def _ordered_marks(evidence: list[Evidence], folded: Mapping[str, FoldedField]) -> list[tuple[str, int, int]]:
    """Character spans (field, start, end) of every occurrence, first occurrences of each clause leading."""
    first: list[tuple[str, int, int]] = []
    rest: list[tuple[str, int, int]] = []
    for item in evidence:
        if item.field not in folded or not item.occurrences:
            continue
        text = folded[item.field]
        chars = [(item.field, *text.char_span(a, b)) for a, b in item.occurrences]
        first.append(chars[0])
        rest.extend(chars[1:])
    return list(dict.fromkeys(first + rest))


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    """About SNIPPET_CHARS of ``text`` holding [start, end), starting and ending on word boundaries."""
    window_start = max(0, start - _LEAD_CHARS)
    if window_start > 0:
        space = text.find(" ", window_start, start)
        window_start = space + 1 if space != -1 else start
    window_end = min(len(text), max(end, window_start + SNIPPET_CHARS))
    if window_end < len(text):
        space = text.rfind(" ", end, window_end + 1)
        window_end = space if space != -1 else window_end
    while window_end > window_start and text[window_end - 1].isspace():
        window_end -= 1
    while window_start < start and text[window_start].isspace():
        window_start += 1
    return window_start, window_end
