"""Searching stored articles with the query language: the same compiled matcher as the live watchlists."""

from __future__ import annotations

from collections.abc import Mapping

from monitor.models import WatchlistSpec

from .engine import compile_watchlists
from .query import NO_ALIASES, Aliases


def matching(
    query: str, articles: Mapping[int, Mapping[str, str]], aliases: Aliases = NO_ALIASES
) -> set[int]:
    """The ids (of hits, or of anything else) whose article fields match ``query``; raises QueryError."""
    matcher = compile_watchlists([WatchlistSpec("search", query=query)], aliases)
    return {key for key, fields in articles.items() if matcher.match(dict(fields))}
