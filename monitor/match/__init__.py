"""Watchlist matching: text folding, the query language, the compiled multi-pattern matcher and snippets.

matcher = compile_watchlists(specs)          # raises QueryError naming the watchlist
matcher.match(article.fields())              # list[Match], in spec order
matcher.explain(article.fields())            # list[Explanation], one per watchlist
"""

from .engine import Matcher, compile_watchlists
from .fold import fold_text
from .query import parse_query
from .reference import Explanation
from .search import matching

__all__ = ["Explanation", "Matcher", "compile_watchlists", "fold_text", "matching", "parse_query"]
