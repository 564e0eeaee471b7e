"""From a watchlist to an index query that can only over-select: the words and phrases an article must hold for
the watchlist to match. The matcher then decides on each candidate, so narrowing never changes a result.

Where a clause cannot be expressed safely (NOT, feed:, lang:, url:, a word the index may cut differently) it
narrows nothing: an OR holding such a clause, or a watchlist made only of them, scans every article in the period.

Words are asked as the matcher finds them: an alias as any of its forms, and a word looked for in its inflected
forms (``stem``) as a prefix, the first letters every one of its forms begins with (``stems.forms_of``).
"""

from __future__ import annotations

from monitor.match.query import (
    NO_ALIASES,
    Aliases,
    And,
    FeedIs,
    LangIs,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    parse_watchlist,
)
from monitor.match.stems import forms_of, stem_languages
from monitor.match.walk import fold_query
from monitor.models import WatchlistSpec
from monitor.store.index import INDEXED_FIELDS, AllOf, AnyOf, IndexQuery, Term, indexable_word


def narrow_watchlist(spec: WatchlistSpec, aliases: Aliases = NO_ALIASES) -> IndexQuery | None:
    """What an article must hold for ``spec`` to match it, or None when that cannot be said (scan all)."""
    narrowing = _Narrowing(stem_languages(spec.stem, spec.languages))
    parsed = parse_watchlist(spec, aliases)
    parts: list[IndexQuery | None] = [narrowing.phrases(term) for term in parsed.terms]
    if parsed.query is not None:
        parts.append(narrowing.node(parsed.query))
    if not parts or any(part is None for part in parts):
        return None
    return _either([part for part in parts if part is not None])


class _Narrowing:
    def __init__(self, languages: tuple[str, ...] | None) -> None:
        self.languages = languages  # the watchlist's stem languages; None: every word exact

    def node(self, node: Node) -> IndexQuery | None:
        return fold_query(node, self)

    def feed(self, node: FeedIs) -> IndexQuery | None:
        return None

    def lang(self, node: LangIs) -> IndexQuery | None:
        return None

    def near(self, node: Near) -> IndexQuery | None:
        sides = [self.phrases(node.left), self.phrases(node.right)]
        known = [side for side in sides if side is not None]
        return _both(known) if known else None

    def negate(self, node: Not, child: IndexQuery | None) -> IndexQuery | None:
        return None

    def all_of(self, node: And, children: list[IndexQuery | None]) -> IndexQuery | None:
        known = [q for q in children if q is not None]
        return _both(known) if known else None

    def any_of(self, node: Or, children: list[IndexQuery | None]) -> IndexQuery | None:
        if any(a is None for a in children):
            return None
        return _either([a for a in children if a is not None])

    def phrases(self, phrases: tuple[Phrase, ...]) -> IndexQuery | None:
        """Any of ``phrases`` (an alias's forms, one side of a NEAR)."""
        alternatives = [self.phrase(p) for p in phrases]
        if not alternatives or any(a is None for a in alternatives):
            return None
        return _either([a for a in alternatives if a is not None])

    def phrase(self, phrase: Phrase) -> IndexQuery | None:
        """The phrase's words in order, cut after each prefix (FTS5 takes a prefix only at a phrase's end): a
        word written with '*', and a word with inflected forms as the letters all its forms begin with."""
        fields = tuple(name for name in INDEXED_FIELDS if name in phrase.fields)
        if len(fields) != len(phrase.fields) or not all(indexable_word(w.text) for w in phrase.words):
            return None
        segments: list[IndexQuery] = []
        pending: list[str] = []
        for index, word in enumerate(phrase.words):
            forms = forms_of(word.text, prefix=word.prefix, exact=word.exact, languages=self.languages)
            pending.append(word.text if forms is None else forms.prefix)
            prefix = word.prefix or forms is not None
            if prefix or index == len(phrase.words) - 1:
                segments.append(Term(tuple(pending), fields, prefix))
                pending = []
        return _both(segments)


def _both(parts: list[IndexQuery]) -> IndexQuery:
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _either(parts: list[IndexQuery]) -> IndexQuery:
    return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))
