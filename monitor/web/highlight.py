"""Splitting text into plain and highlighted runs for the templates, which escape every run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from monitor.match import compile_watchlists
from monitor.match.engine import Matcher
from monitor.models import Snippet, WatchlistSpec

Runs = list[tuple[str, bool]]
SEARCH_NAME = "search"


def runs(text: str, spans: Iterable[tuple[int, int]]) -> Runs:
    """``text`` cut into (part, highlighted) runs; spans are clipped to the text, sorted and merged (an empty
    span, or what is left of one inside those before it, is skipped)."""
    length = len(text)
    ordered = sorted((max(0, a), min(length, b)) for a, b in spans)
    parts: Runs = []
    position = 0
    for start, end in ordered:
        start = max(start, position)
        if end <= start:
            continue
        if start > position:
            parts.append((text[position:start], False))
        parts.append((text[start:end], True))
        position = end
    if position < length or not parts:
        parts.append((text[position:], False))
    return parts


def snippet_runs(snippet: Snippet) -> Runs:
    return runs(snippet.text, snippet.marks)


def field_runs(fields: Mapping[str, str], marks: Mapping[str, Sequence[tuple[int, int]]]) -> dict[str, Runs]:
    """Every text field cut into runs at its marks."""
    return {name: runs(fields.get(name, ""), marks.get(name, ())) for name in ("title", "summary", "body")}


def query_matcher(query: str, aliases: Mapping[str, tuple[str, ...]]) -> Matcher:
    """A matcher for a search query, to highlight what the search found; raises QueryError."""
    return compile_watchlists([WatchlistSpec(SEARCH_NAME, query=query)], aliases)


def marks_count(marks: Mapping[str, Sequence[tuple[int, int]]]) -> int:
    return sum(len(spans) for spans in marks.values())
