"""From a watchlist to an index query that can only over-select: the words and phrases an article must hold for
the watchlist to match. The matcher then decides on each candidate, so narrowing never changes a result.

Where a clause cannot be expressed safely (NOT, feed:, url:, a word the index may cut differently) it narrows
nothing: an OR holding such a clause, or a watchlist made only of them, scans every article in the period.
"""

from __future__ import annotations

from monitor.match.query import And, FeedIs, Near, Node, Not, Or, Phrase, parse_query, parse_term
from monitor.models import WatchlistSpec
from monitor.store.index import INDEXED_FIELDS, AllOf, AnyOf, IndexQuery, Term, indexable_word


def narrow_watchlist(spec: WatchlistSpec) -> IndexQuery | None:
    """What an article must hold for ``spec`` to match it, or None when that cannot be said (scan all)."""
    parts: list[IndexQuery | None] = [narrow_phrase(parse_term(term)) for term in spec.terms]
    if spec.query:
        parts.append(narrow_node(parse_query(spec.query)))
    if not parts or any(part is None for part in parts):
        return None
    return _either([part for part in parts if part is not None])


def narrow_node(node: Node) -> IndexQuery | None:
    if isinstance(node, Phrase):
        return narrow_phrase(node)
    if isinstance(node, FeedIs | Not):
        return None
    if isinstance(node, Near):
        sides = [_all_phrases(node.left), _all_phrases(node.right)]
        known = [side for side in sides if side is not None]
        return _both(known) if known else None
    if isinstance(node, And):
        known = [q for q in map(narrow_node, node.children) if q is not None]
        return _both(known) if known else None
    assert isinstance(node, Or)
    alternatives = [narrow_node(child) for child in node.children]
    if any(a is None for a in alternatives):
        return None
    return _either([a for a in alternatives if a is not None])


def narrow_phrase(phrase: Phrase) -> IndexQuery | None:
    """The phrase's words in order, cut after each prefix word (FTS5 takes a prefix only at a phrase's end)."""
    fields = tuple(name for name in INDEXED_FIELDS if name in phrase.fields)
    if len(fields) != len(phrase.fields) or not all(indexable_word(w.text) for w in phrase.words):
        return None
    segments: list[IndexQuery] = []
    pending: list[str] = []
    for index, word in enumerate(phrase.words):
        pending.append(word.text)
        if word.prefix or index == len(phrase.words) - 1:
            segments.append(Term(tuple(pending), fields, word.prefix))
            pending = []
    return _both(segments)


def _all_phrases(phrases: tuple[Phrase, ...]) -> IndexQuery | None:
    alternatives = [narrow_phrase(p) for p in phrases]
    if any(a is None for a in alternatives):
        return None
    return _either([a for a in alternatives if a is not None])


def _both(parts: list[IndexQuery]) -> IndexQuery:
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _either(parts: list[IndexQuery]) -> IndexQuery:
    return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))
