"""Searching stored articles with the query language: the same compiled matcher as the live watchlists."""

from __future__ import annotations

from collections.abc import Mapping

from monitor.models import WatchlistSpec

from .engine import compile_watchlists


def matching(query: str, articles: Mapping[int, Mapping[str, str]]) -> set[int]:
    """The ids (of hits, or of anything else) whose article fields match ``query``; raises QueryError."""
    matcher = compile_watchlists([WatchlistSpec("search", query=query)])
    return {key for key, fields in articles.items() if matcher.match(dict(fields))}
