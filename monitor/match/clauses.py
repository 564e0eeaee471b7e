"""Compiled clauses: a watchlist's phrases, NEAR, AND, OR, NOT, feed: and lang: as the matcher evaluates them
on one scanned article, with the evidence of what held (see engine.py for how phrases become patterns)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from monitor.models import TEXT_FIELDS

from .query import FeedIs, LangIs, Near, Phrase
from .reference import describe_found
from .scan import SCANNED_FIELDS, ArticleScan
from .snippets import Evidence
from .stems import WordForms

Occurrence = tuple[int, int]  # in the padded field: start of the first word, end of the last word
_NONE: frozenset[int] = frozenset()
DESCRIBED_LIMIT = 64  # ways a phrase was found kept per phrase before starting afresh


class _Always:
    """Trigger of a clause that the automaton cannot see (feed:NAME): evaluate on every article."""


ALWAYS = _Always()
Trigger = frozenset[int] | _Always


# --- compiled clauses -------------------------------------------------------------------------------------


class Clause:
    """What every compiled clause does on a scanned article: hold or not, and say what held.

    An extension type where compiled, with the clauses below its subtypes: a watchlist, an AND, an OR or a NOT
    then calls the methods of the clauses it holds directly (a C call through the type's table), not by name.
    """

    __slots__ = ()

    def evaluate(self, scan: ArticleScan) -> bool:
        """Whether the clause holds in ``scan``: every clause type below says it its own way (declared here so
        that the compiled types share one table of methods; tests/test_match_compiled.py checks each overrides
        it)."""
        raise NotImplementedError(f"{type(self).__name__} does not say whether it holds: define evaluate()")

    def evidence(self, scan: ArticleScan) -> list[Evidence]:
        return []


class Segment:
    """One automaton pattern of a phrase (an extension type where compiled: its fields are read directly)."""

    __slots__ = ("forms", "pattern", "prefix", "text")

    def __init__(self, pattern: int, text: str, prefix: bool, forms: WordForms | None = None) -> None:
        self.pattern = pattern
        self.text = text  # " w1 w2 " (exact) or " w1 w2" (the last word a prefix)
        self.prefix = prefix  # ends in the middle of a word
        # The last word is looked for in these forms: ``text`` ends in their prefix, and ``pattern`` is a
        # word-form pattern, found where the prefix is and the article word there has the stem.
        self.forms = forms


class CompiledPhrase(Clause):
    def __init__(self, phrase: Phrase, segments: tuple[Segment, ...]) -> None:
        self.phrase = phrase
        self.segments = segments
        self.fields = tuple(name for name in phrase.fields if name in SCANNED_FIELDS)
        self.label = phrase.source
        self.single = segments[0].pattern if len(segments) == 1 else None
        self.key = tuple(segment.pattern for segment in segments)
        self.key_set = frozenset(self.key)
        self.in_text_fields = self.fields == TEXT_FIELDS  # not scoped: looked for in every text field
        self.word_forms = _word_forms(segments)
        # (folded text found, article language) -> how the phrase was found so: the same words come back in
        # article after article, and saying how takes a stem of each word in each language.
        self.described: dict[tuple[str, str | None], str] = {}

    def trigger(self) -> Trigger:
        return frozenset([self.segments[0].pattern])

    def held(self, scan: ArticleScan) -> tuple[str, ...]:
        """The fields the phrase holds in, worked out once an article (deciding, evidence and explanations ask)."""
        held = scan.held.get(self)
        if held is None:
            held = scan.held[self] = self._held(scan)
        return held

    def _held(self, scan: ArticleScan) -> tuple[str, ...]:
        found = scan.found
        single = self.single
        if single is not None:
            return tuple([name for name in self.fields if single in found.get(name, _NONE)])
        key_set = self.key_set
        if not key_set <= scan.anywhere:  # some pattern is in no field: no positions to work out
            return ()
        return tuple(
            [
                name
                for name in self.fields
                if key_set <= found.get(name, _NONE) and self.occurrences(scan, name)
            ]
        )

    def in_field(self, scan: ArticleScan, name: str) -> bool:
        return name in self.held(scan)

    def evidence(self, scan: ArticleScan) -> list[Evidence]:
        found = scan.evidence.get(self)
        if found is None:
            found = scan.evidence[self] = [
                Evidence(self.label, name, self.occurrences(scan, name)) for name in self.held(scan)
            ]
        return found

    def evaluate(self, scan: ArticleScan) -> bool:
        single = self.single
        if single is not None:  # the common case, kept cheap: one pattern, no positions
            if self.in_text_fields:
                return single in scan.in_text
            found = scan.found
            for name in self.fields:
                if single in found[name]:
                    return True
            return False
        return bool(self.held(scan))  # several patterns: their positions decide, once an article

    def occurrences(self, scan: ArticleScan, name: str) -> list[Occurrence]:
        key = (name, self.key)
        found = scan.occurrences.get(key)
        if found is None:
            found = scan.occurrences[key] = self._occurrences(scan, name)
        return found

    def _occurrences(self, scan: ArticleScan, name: str) -> list[Occurrence]:
        padded = scan.folded[name].padded
        segments = self.segments
        first: Segment = segments[0]
        if len(segments) == 1:
            found = _segment_spans(first, padded, scan.ends(name, first.pattern))
        else:
            # A segment after the first starts on the word after the space that ends the one before, so its
            # occurrence there is the one whose pattern ends ``len(text) - 2`` further: each occurrence of the first
            # segment is followed through the others by lookups in the sets of their ends, and only the
            # occurrences of the whole phrase are made ("sentenced to": one "sentenc", none of the 59 " to ").
            later: list[tuple[Segment, set[int]]] = []
            for segment in segments[1:]:
                ends = scan.ends(name, segment.pattern)
                if not ends:
                    return []
                later.append((segment, set(ends)))
            found = []
            back = len(first.text) - 2
            for end in scan.ends(name, first.pattern):
                start = end - back
                if first.prefix:
                    end = _next_space(padded, end)
                for segment, segment_ends in later:
                    # Its pattern starts at end + 1 and ends len(text) - 2 after that.
                    next_end = end + len(segment.text) - 1
                    if next_end not in segment_ends:
                        break
                    end = _next_space(padded, next_end) if segment.prefix else next_end
                else:
                    found.append((start, end))
        # The ends come in the order of the text, so the spans nearly always do too: sorted only when not.
        return found if _rising(found) else sorted(set(found))

    def found_as(self, scan: ArticleScan) -> str | None:
        """How the phrase was found (exact, through an alias, as a word form), from its first occurrence."""
        if self in scan.how:
            return scan.how[self]
        how = scan.how[self] = self._found_as(scan)
        return how

    def _found_as(self, scan: ArticleScan) -> str | None:
        held = self.held(scan)
        if not held:
            return None
        name = held[0]
        start, end = self.occurrences(scan, name)[0]
        key = (scan.folded[name].padded[start:end], scan.language)
        how = self.described.get(key)
        if how is None:
            if len(self.described) >= DESCRIBED_LIMIT:
                self.described.clear()
            how = self.described[key] = describe_found(self.phrase, key[0].split(), self.word_forms, key[1])
        return how


def _word_forms(segments: tuple[Segment, ...]) -> list[WordForms | None]:
    """The forms of each word of a phrase, in order (only the last word of a segment can have forms)."""
    forms: list[WordForms | None] = []
    for segment in segments:
        forms += [None] * (len(segment.text.split()) - 1) + [segment.forms]
    return forms


def _segment_spans(segment: Segment, padded: str, ends: list[int]) -> list[Occurrence]:
    """The span of the segment ending at each of ``ends``, in order. An end is the last character of the
    pattern: the space after an exact pattern, or a character inside the last word of a prefix, whose word then
    ends on the next space."""
    back = len(segment.text) - 2
    spans: list[Occurrence] = []
    if segment.prefix:
        for end in ends:
            spans.append((end - back, _next_space(padded, end)))
    else:
        for end in ends:
            spans.append((end - back, end))
    return spans


def _next_space(padded: str, at: int) -> int:
    """The offset of the first space at or after ``at`` (a padded field ends with one)."""
    while padded[at] != " ":
        at += 1
    return at


def _rising(spans: list[Occurrence]) -> bool:
    """Whether each span starts after the one before (then the list is sorted and has no repeats)."""
    last = -1
    for span in spans:
        start = span[0]
        if start <= last:
            return False
        last = start
    return True


class CompiledFeed(Clause):
    def __init__(self, leaf: FeedIs) -> None:
        self.name = leaf.name
        self.label = f"feed:{leaf.source}"

    def trigger(self) -> Trigger:
        return ALWAYS

    def evaluate(self, scan: ArticleScan) -> bool:
        return scan.feed == self.name

    def evidence(self, scan: ArticleScan) -> list[Evidence]:
        # Kept by the scan like every evidence: matches key their snippets and marks by the ids of their
        # evidence, which must not be those of an evidence freed and made again at the same address.
        found = scan.evidence.get(self)
        if found is None:
            found = scan.evidence[self] = [Evidence(self.label, "feed", [])] if self.evaluate(scan) else []
        return found


class CompiledLang(Clause):
    def __init__(self, leaf: LangIs) -> None:
        self.code = leaf.code
        self.label = f"lang:{leaf.source}"

    def trigger(self) -> Trigger:
        return ALWAYS

    def evaluate(self, scan: ArticleScan) -> bool:
        return scan.language is None or scan.language == self.code

    def evidence(self, scan: ArticleScan) -> list[Evidence]:
        return []


class CompiledNear(Clause):
    def __init__(self, near: Near, left: list[CompiledPhrase], right: list[CompiledPhrase]) -> None:
        self.left = left
        self.right = right
        self.distance = near.distance
        self.label = near.source

    def trigger(self) -> Trigger:
        left, right = (frozenset(p.segments[0].pattern for p in side) for side in (self.left, self.right))
        return left if len(left) <= len(right) else right

    def evaluate(self, scan: ArticleScan) -> bool:
        for name in SCANNED_FIELDS:
            if self.pairs(scan, name):
                return True
        return False

    def pairs(self, scan: ArticleScan, name: str) -> list[Occurrence]:
        """The occurrences of either side that have one of the other side close enough, in field ``name``."""
        key = (self, name)
        found = scan.pairs.get(key)
        if found is None:  # worked out once an article: deciding, evidence and explanations all ask
            found = scan.pairs[key] = self._pairs(scan, name)
        return found

    def _pairs(self, scan: ArticleScan, name: str) -> list[Occurrence]:
        if not _side_present(self.left, scan, name) or not _side_present(self.right, scan, name):
            return []
        lefts = _side_occurrences(self.left, scan, name)
        rights = _side_occurrences(self.right, scan, name)
        padded = scan.folded[name].padded
        close_lefts = _close_to(lefts, rights, self.distance, padded)
        if not close_lefts:
            return []
        return sorted(set(close_lefts + _close_to(rights, lefts, self.distance, padded)))

    def evidence(self, scan: ArticleScan) -> list[Evidence]:
        found = scan.evidence.get(self)
        if found is None:
            found = scan.evidence[self] = [
                Evidence(self.label, name, pairs)
                for name in SCANNED_FIELDS
                if (pairs := self.pairs(scan, name))
            ]
        return found


def _side_present(side: list[CompiledPhrase], scan: ArticleScan, name: str) -> bool:
    """Whether a phrase of a NEAR clause's side holds in field ``name`` (each phrase's ``held`` a C call where
    compiled)."""
    for phrase in side:
        if name in phrase.held(scan):
            return True
    return False


def _side_occurrences(side: list[CompiledPhrase], scan: ArticleScan, name: str) -> list[Occurrence]:
    return sorted({o for p in side if name in p.fields for o in p.occurrences(scan, name)})


def _close_to(
    these: list[Occurrence], others: list[Occurrence], distance: int, padded: str
) -> list[Occurrence]:
    """The occurrences in ``these`` with an occurrence of ``others`` at most ``distance`` words away.

    Between the end of one occurrence and the start of a later one there is one space more than words.
    """
    other_starts = sorted(o[0] for o in others)
    other_ends = sorted(o[1] for o in others)
    close = []
    for start, end in these:
        after = bisect_right(other_starts, end)  # the nearest other starting after this one ends
        if after < len(other_starts) and padded.count(" ", end, other_starts[after]) - 1 <= distance:
            close.append((start, end))
            continue
        before = bisect_left(other_ends, start) - 1  # the nearest other ending before this one starts
        if before >= 0 and padded.count(" ", other_ends[before], start) - 1 <= distance:
            close.append((start, end))
    return close


class CompiledAnd(Clause):
    def __init__(self, children: list[Compiled]) -> None:
        self.children = children

    def trigger(self) -> Trigger:
        triggers = [child.trigger() for child in self.children]
        sets = [t for t in triggers if isinstance(t, frozenset)]
        return min(sets, key=len) if sets else ALWAYS

    def evaluate(self, scan: ArticleScan) -> bool:
        for child in self.children:
            if not child.evaluate(scan):
                return False
        return True


class CompiledOr(Clause):
    def __init__(self, children: list[Compiled]) -> None:
        self.children = children

    def trigger(self) -> Trigger:
        return union([child.trigger() for child in self.children])

    def evaluate(self, scan: ArticleScan) -> bool:
        for child in self.children:
            if child.evaluate(scan):
                return True
        return False


class CompiledNot(Clause):
    def __init__(self, child: Compiled) -> None:
        self.child = child

    def trigger(self) -> Trigger:
        # "a OR NOT b" holds on an article without a or b: only a NOT inside an AND can be skipped.
        return ALWAYS

    def evaluate(self, scan: ArticleScan) -> bool:
        return not self.child.evaluate(scan)


Compiled = (
    CompiledPhrase | CompiledFeed | CompiledLang | CompiledNear | CompiledAnd | CompiledOr | CompiledNot
)
ClauseLeaf = CompiledPhrase | CompiledFeed | CompiledLang | CompiledNear


def union(triggers: list[Trigger]) -> Trigger:
    sets = [t for t in triggers if isinstance(t, frozenset)]
    return ALWAYS if len(sets) < len(triggers) else frozenset().union(*sets)
