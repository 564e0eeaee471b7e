"""Whole matches (terms, fields, snippets, how each term was found) built the plain way, from the reference
evaluator's word-by-word occurrences: what the compiled matcher must give, field for field."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import accumulate

from monitor.match.fold import FoldedField
from monitor.match.query import (
    NO_ALIASES,
    Aliases,
    FeedIs,
    Near,
    Phrase,
    parse_query,
    parse_term,
)
from monitor.match.reference import (
    Article,
    describe_found,
    explain_spec,
    near_gaps,
    occurrences,
    phrase_forms,
)
from monitor.match.snippets import Evidence, build_snippets
from monitor.match.stems import stem_languages
from monitor.match.walk import positive_leaves
from monitor.models import TEXT_FIELDS, Match, WatchlistSpec

SCANNED = (*TEXT_FIELDS, "url")
FIELD_ORDER = (*SCANNED, "feed")
Span = tuple[int, int]  # first and last word index


class PlainArticle:
    """The reference's reading of an article, with each word's start in the padded folded field."""

    def __init__(self, fields: Mapping[str, str], stemmed_in: tuple[str, ...] | None) -> None:
        self.article = Article(fields, stemmed_in)
        self.folded = {name: FoldedField(fields.get(name, "")) for name in SCANNED}
        self.starts = {
            name: list(accumulate((len(w) + 1 for w in words), initial=1))
            for name, words in self.article.words.items()
        }

    def padded(self, name: str, span: Span) -> tuple[int, int]:
        first, last = span
        starts = self.starts[name]
        return starts[first], starts[last] + len(self.article.words[name][last])

    def spans(self, phrase: Phrase, name: str) -> list[Span]:
        if name not in phrase.fields:
            return []
        return occurrences(phrase, self.article, name)


def _gap(a: Span, b: Span) -> int | None:
    if a[1] < b[0]:
        return b[0] - a[1] - 1
    if b[1] < a[0]:
        return a[0] - b[1] - 1
    return None


def _near_evidence(near: Near, plain: PlainArticle) -> list[Evidence]:
    found = []
    for name in SCANNED:
        lefts = sorted({s for p in near.left for s in plain.spans(p, name)})
        rights = sorted({s for p in near.right for s in plain.spans(p, name)})

        def close(these: list[Span], others: list[Span]) -> list[Span]:
            return [
                a for a in these if any((g := _gap(a, b)) is not None and g <= near.distance for b in others)
            ]

        close_lefts = close(lefts, rights)
        if close_lefts:
            spans = sorted(set(close_lefts + close(rights, lefts)))
            found.append(Evidence(near.source, name, [plain.padded(name, s) for s in spans]))
    return found


def _phrase_evidence(phrase: Phrase, plain: PlainArticle) -> list[Evidence]:
    return [
        Evidence(phrase.source, name, [plain.padded(name, s) for s in spans])
        for name in phrase.fields
        if name in SCANNED and (spans := plain.spans(phrase, name))
    ]


def _how(phrase: Phrase, plain: PlainArticle) -> str | None:
    for name in phrase.fields:
        spans = plain.spans(phrase, name) if name in SCANNED else []
        if spans:
            first, last = spans[0]
            words = plain.article.words[name][first : last + 1]
            forms = phrase_forms(phrase, plain.article.stemmed_in)
            return describe_found(phrase, words, forms, plain.article.language)
    return None


def plain_match(
    spec: WatchlistSpec, fields: Mapping[str, str], aliases: Aliases = NO_ALIASES
) -> Match | None:
    """The Match of ``spec`` on the article, or None when it does not match."""
    if not explain_spec(spec, fields, aliases).matched:
        return None
    plain = PlainArticle(fields, stem_languages(spec.stem, spec.languages))
    terms = [p for term in spec.terms for p in parse_term(term, aliases)]
    query = parse_query(spec.query, aliases) if spec.query else None
    clauses = positive_leaves(query) if query is not None else []
    evidence: list[Evidence] = []
    holding: list[Phrase] = []
    for phrase in terms:
        found = _phrase_evidence(phrase, plain)
        evidence += found
        holding += [phrase] if found else []
    for clause in clauses:
        if isinstance(clause, Phrase):
            found = _phrase_evidence(clause, plain)
            evidence += found
            holding += [clause] if found else []
        elif isinstance(clause, FeedIs):
            evidence += (
                [Evidence(f"feed:{clause.source}", "feed", [])] if plain.article.feed == clause.name else []
            )
        elif isinstance(clause, Near):
            evidence += _near_evidence(clause, plain)
            if any(gap <= clause.distance for gap in near_gaps(clause, plain.article).values()):
                sides = (*clause.left, *clause.right)
                holding += [p for p in sides if any(plain.spans(p, name) for name in SCANNED)]
    labels = tuple(dict.fromkeys(e.label for e in evidence))
    names = {e.field for e in evidence}
    found_as = [line for p in dict.fromkeys(holding) if (line := _how(p, plain)) is not None]
    return Match(
        spec.name,
        labels,
        build_snippets(evidence, plain.folded),
        tuple(f for f in FIELD_ORDER if f in names),
        tuple(dict.fromkeys(found_as)),
    )
