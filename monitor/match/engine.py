"""The compiled matcher: every watchlist in one Aho-Corasick automaton, evaluated only where its words occur.

Each field is folded once into " w1 w2 ... wn ". Each phrase becomes one automaton pattern " w1 w2 " (or
" w1 w2" when its last word is a prefix); a phrase with a prefix word inside is cut into several patterns
checked for consecutive word positions. A word looked for in its inflected forms is a prefix pattern (the
first letters all its forms share) whose occurrences are kept only where the article word has the same stem
(scan.py: a one-word prefix of forms is not scanned for, the field's distinct words are looked up instead). One
scan per field gives the set of patterns present. A watchlist is evaluated only when one of its trigger patterns
is present (for an AND, the trigger of one child suffices), and word positions are worked out only for NEAR, cut
phrases and snippets. The clauses are in clauses.py.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any

from monitor.models import Match, MatchDetails, WatchlistSpec

from .clauses import (
    ALWAYS,
    ClauseLeaf,
    Compiled,
    CompiledAnd,
    CompiledFeed,
    CompiledLang,
    CompiledNear,
    CompiledNot,
    CompiledOr,
    CompiledPhrase,
    Segment,
    Trigger,
    union,
)
from .fold import fold_text
from .query import (
    NO_ALIASES,
    Aliases,
    And,
    FeedIs,
    LangIs,
    Near,
    Node,
    Not,
    Or,
    ParsedWatchlist,
    Phrase,
    parse_watchlist,
)
from .reference import Explanation, explain_spec
from .scan import SCANNED_FIELDS, ArticleScan, FormChecks, Lexicon, PatternScanner
from .snippets import Evidence, build_snippets
from .stems import WordForms, forms_of, prime, stem_languages
from .walk import fold_query, phrases_in, positive_leaves


class _Compiler:
    """Turns phrases into automaton patterns (shared between watchlists) and query trees into clauses."""

    def __init__(self, aliases: Aliases) -> None:
        self.aliases = aliases
        self.patterns: dict[str, int] = {}
        self.scans_url = False
        self.leaves: dict[int, ClauseLeaf] = {}  # id(query leaf) -> compiled, to find positive clauses again
        self.phrases: dict[tuple[Phrase, tuple[str, ...] | None], CompiledPhrase] = {}
        self.form_patterns: dict[tuple[int, WordForms], int] = {}
        self.forms = FormChecks()
        self.used: set[int] = set()  # the patterns phrases look for themselves (not only as a form's prefix)
        # The languages the watchlist being compiled is stemmed in (None: exact words only).
        self.languages: tuple[str, ...] | None = None

    def pattern(self, text: str) -> int:
        return self.patterns.setdefault(text, len(self.patterns))

    def form_pattern(self, text: str, forms: WordForms) -> int:
        """A word-form pattern: negative, never in the automaton; found where its prefix pattern is."""
        prefix = self.pattern(text)
        key = (prefix, forms)
        virtual = self.form_patterns.get(key)
        if virtual is None:
            virtual = self.form_patterns[key] = -1 - len(self.form_patterns)
            self.forms.checks.setdefault(prefix, []).append((virtual, len(forms.prefix), forms))
        return virtual

    def phrase(self, phrase: Phrase) -> CompiledPhrase:
        # The same phrase written the same way in several watchlists is one clause: its evidence is shared.
        key = (phrase, self.languages)
        compiled = self.phrases.get(key)
        if compiled is None:
            compiled = self.phrases[key] = self._phrase(phrase)
        self.leaves[id(phrase)] = compiled
        return compiled

    def _phrase(self, phrase: Phrase) -> CompiledPhrase:
        segments: list[Segment] = []
        pending: list[str] = []
        for index, word in enumerate(phrase.words):
            forms = forms_of(word.text, prefix=word.prefix, exact=word.exact, languages=self.languages)
            pending.append(word.text if forms is None else forms.prefix)
            if word.prefix or forms is not None or index == len(phrase.words) - 1:
                cut = word.prefix or forms is not None
                text = " " + " ".join(pending) + ("" if cut else " ")
                pattern = self.pattern(text) if forms is None else self.form_pattern(text, forms)
                if forms is None:
                    self.used.add(pattern)
                segments.append(Segment(pattern, text, cut, forms))
                pending = []
        self.scans_url = self.scans_url or "url" in phrase.fields
        return CompiledPhrase(phrase, tuple(segments))

    def node(self, node: Node) -> Compiled:
        return fold_query(node, self)

    def feed(self, node: FeedIs) -> Compiled:
        leaf = self.leaves[id(node)] = CompiledFeed(node)
        return leaf

    def lang(self, node: LangIs) -> Compiled:
        leaf = self.leaves[id(node)] = CompiledLang(node)
        return leaf

    def near(self, node: Near) -> Compiled:
        near = CompiledNear(node, [self.phrase(p) for p in node.left], [self.phrase(p) for p in node.right])
        self.leaves[id(node)] = near
        return near

    def negate(self, node: Not, child: Compiled) -> Compiled:
        return CompiledNot(child)

    def all_of(self, node: And, children: list[Compiled]) -> Compiled:
        return CompiledAnd(children)

    def any_of(self, node: Or, children: list[Compiled]) -> Compiled:
        return CompiledOr(children)


def _prime_stems(parsed: list[tuple[WatchlistSpec, ParsedWatchlist]]) -> None:
    """Stem the words of every stemmed watchlist ahead, a call per language (see ``stems.prime``)."""
    words: dict[tuple[str, ...], set[str]] = {}
    for spec, watchlist in parsed:
        languages = stem_languages(spec.stem, spec.languages)
        if languages is not None:
            found = words.setdefault(languages, set())
            query = phrases_in(watchlist.query) if watchlist.query is not None else []
            for phrase in (*watchlist.term_phrases(), *watchlist.exclude_phrases(), *query):
                found.update(word.text for word in phrase.words if not word.prefix and not word.exact)
    for languages, found in words.items():
        prime(found, languages)


class CompiledWatchlist:
    def __init__(self, spec: WatchlistSpec, parsed: ParsedWatchlist, compiler: _Compiler) -> None:
        self.spec = spec
        self.name = spec.name
        self.feeds = None if spec.feeds is None else frozenset(fold_text(name) for name in spec.feeds)
        self.languages = None if spec.languages is None else frozenset(spec.languages)
        compiler.languages = stem_languages(spec.stem, spec.languages)
        query = parsed.query
        self.terms = [compiler.phrase(p) for p in parsed.term_phrases()]
        self.exclude = [compiler.phrase(p) for p in parsed.exclude_phrases()]
        # A query made only of NOT clauses matches nothing (it would otherwise match nearly every article).
        positive = positive_leaves(query) if query is not None else []
        self.query = compiler.node(query) if query is not None and positive else None
        self.query_clauses = [compiler.leaves[id(leaf)] for leaf in positive] if self.query else []

    def trigger(self) -> Trigger | None:
        """None when the watchlist can never match."""
        triggers: list[Trigger] = [term.trigger() for term in self.terms]
        if self.query is not None:
            triggers.append(self.query.trigger())
        return union(triggers) if triggers else None

    def matches(self, scan: ArticleScan) -> bool:
        if self.feeds is not None and scan.feed not in self.feeds:
            return False
        if self.languages is not None and scan.language is not None and scan.language not in self.languages:
            return False
        for term in self.terms:
            if term.evaluate(scan):
                break
        else:
            if self.query is None or not self.query.evaluate(scan):
                return False
        for term in self.exclude:
            if term.evaluate(scan):
                return False
        return True

    def evidence(self, scan: ArticleScan) -> list[Evidence]:
        """What made the watchlist match: each true clause with the fields and places it was found at."""
        found: list[Evidence] = []
        for term in self.terms:
            if term.evaluate(scan):  # (a term that does not hold has no evidence: not worked out to say so)
                found += term.evidence(scan)
        for clause in self.query_clauses:
            if clause.evaluate(scan):
                found += clause.evidence(scan)
        return found

    def details(self, scan: ArticleScan) -> MatchDetails:
        """What a match of the watchlist says beyond its name (see ``Match``), in one pass over its clauses: the
        labels of the clauses that hold, its snippets, the fields they hold in and how each term or query phrase
        that holds was found. The scan keeps what matches of the same article share (evidence, occurrences,
        snippet windows and marks, how each phrase was found)."""
        evidence: list[Evidence] = []
        lines: dict[str, None] = {}
        for term in self.terms:
            if term.evaluate(scan):  # (a term that does not hold has no evidence: not worked out to say so)
                evidence += term.evidence(scan)
                _found_line(term, scan, lines)
        for clause in self.query_clauses:
            if clause.evaluate(scan):
                evidence += clause.evidence(scan)
                if isinstance(clause, CompiledPhrase):
                    _found_line(clause, scan, lines)
                elif isinstance(clause, CompiledNear):
                    for phrase in clause.left:
                        if phrase.evaluate(scan):
                            _found_line(phrase, scan, lines)
                    for phrase in clause.right:
                        if phrase.evaluate(scan):
                            _found_line(phrase, scan, lines)
        if len(evidence) == 1:  # the common case: one clause held
            item: Evidence = evidence[0]
            labels: tuple[str, ...] = (item.label,)
            fields: tuple[str, ...] = (item.field,) if item.field in _FIELD_ORDER else ()
            key: Any = id(item)  # evidence is kept by the scan: ids stay unique while it lives
        else:
            labels = tuple(dict.fromkeys([item.label for item in evidence]))
            names = {item.field for item in evidence}
            fields = tuple([name for name in _FIELD_ORDER if name in names])
            key = tuple([id(item) for item in evidence])
        snippets = scan.snippets.get(key)
        if snippets is None:
            snippets = scan.snippets[key] = build_snippets(evidence, scan.folded, scan.windows, scan.marks)
        return labels, snippets, fields, tuple(lines)


def _found_line(phrase: CompiledPhrase, scan: ArticleScan, lines: dict[str, None]) -> None:
    """Add how ``phrase`` was found to ``lines`` (each line once, in the order first given)."""
    line = phrase.found_as(scan)
    if line is not None:
        lines[line] = None


class Matcher:
    """All watchlists compiled together; ``match`` one article at a time."""

    def __init__(
        self,
        watchlists: list[CompiledWatchlist],
        patterns: dict[str, int],
        scan_url: bool,
        aliases: Aliases = NO_ALIASES,
        forms: FormChecks | None = None,
        used: set[int] | None = None,
    ) -> None:
        self._watchlists = watchlists
        self.aliases = aliases
        self._forms = forms or FormChecks()
        used_patterns = set(patterns.values()) if used is None else used
        prefixes: dict[str, int] = {}  # one-word prefixes of word forms
        scanned: dict[str, int] = {}
        for text, pattern in patterns.items():
            if pattern in self._forms.checks and " " not in text[1:]:
                prefixes[text[1:]] = pattern
                if pattern not in used_patterns:
                    continue  # only the prefix of word forms: found from the words, not by scanning
            scanned[text] = pattern
        self._automaton = PatternScanner(scanned)
        # Word forms behind prefixes of several words are checked where the automaton finds the prefix.
        one_word = set(prefixes.values())
        scanned_patterns = set(scanned.values())
        self._forms.patterns = frozenset(
            p for p in self._forms.checks if p in scanned_patterns and p not in one_word
        )
        self._lexicon = Lexicon(prefixes, self._forms.checks)
        self._scan_url = scan_url
        self._always: list[int] = []
        self._by_pattern: dict[int, list[int]] = {}
        for index, watchlist in enumerate(watchlists):
            trigger = watchlist.trigger()
            if trigger is ALWAYS:
                self._always.append(index)
            elif isinstance(trigger, frozenset):
                for pattern in trigger:
                    self._by_pattern.setdefault(pattern, []).append(index)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(w.name for w in self._watchlists)

    def _scan(self, fields: Mapping[str, str]) -> ArticleScan:
        return ArticleScan(fields, self._automaton, self._scan_url, self._forms, self._lexicon)

    def _candidates(self, scan: ArticleScan) -> list[int]:
        candidates = set(self._always)
        by_pattern = self._by_pattern
        for pattern in scan.anywhere:
            indexes = by_pattern.get(pattern)
            if indexes is not None:
                for index in indexes:  # (a C loop where compiled: ``set.update`` was a method call a pattern)
                    candidates.add(index)
        return sorted(candidates)

    def match(self, fields: Mapping[str, str]) -> list[Match]:
        """One Match per watchlist that matches the article, in the order the watchlists were given."""
        return self._matches(self._scan(fields))

    def match_folded(self, fields: Mapping[str, str]) -> tuple[list[Match], dict[str, str]]:
        """``match``, and the article's text fields as the matcher folded them (``FoldedField.padded``, the folded
        words with a space either side) by name, for the search index to take their words from. Only the
        strings are given (not copied): plain strings are not followed by the cyclic garbage collector, the
        folded fields would be, for as long as the finding waits to be stored."""
        scan = self._scan(fields)
        folded = scan.folded
        texts = {
            "title": folded["title"].padded,
            "summary": folded["summary"].padded,
            "body": folded["body"].padded,
        }
        return self._matches(scan), texts

    def _matches(self, scan: ArticleScan) -> list[Match]:
        matches = []
        for index in self._candidates(scan):
            watchlist = self._watchlists[index]
            if watchlist.matches(scan):
                matches.append(_to_match(watchlist, scan))
        return matches

    def highlights(self, fields: Mapping[str, str]) -> dict[str, list[tuple[int, int]]]:
        """Every place in each field where a clause of a matching watchlist holds, as (start, end) offsets
        into the field's original text: the snippets keep three, a reader of the whole article wants all."""
        scan = self._scan(fields)
        spans: dict[str, set[tuple[int, int]]] = {}
        for index in self._candidates(scan):
            watchlist = self._watchlists[index]
            if not watchlist.matches(scan):
                continue
            for item in watchlist.evidence(scan):
                folded = scan.folded.get(item.field)
                if folded is not None:
                    found = spans.setdefault(item.field, set())
                    found.update(folded.char_span(start, end) for start, end in item.occurrences)
        return {name: sorted(found) for name, found in spans.items()}

    def explain(self, fields: Mapping[str, str]) -> list[Explanation]:
        """For every watchlist, whether it matches the article and why (slow: for people, not the pipeline)."""
        return [explain_spec(w.spec, fields, self.aliases) for w in self._watchlists]


def _to_match(watchlist: CompiledWatchlist, scan: ArticleScan) -> Match:
    return Match(watchlist.name, later=partial(watchlist.details, scan))  # built when first read


_FIELD_ORDER = (*SCANNED_FIELDS, "feed")
# Objects left young by a compile above which it ends with a full collection (see ``_no_collections``): about
# 500 watchlists' worth; the heap of a small compile is left to the collector's own schedule.
COLLECT_AFTER_OBJECTS = 20_000


def compile_watchlists(specs: Iterable[WatchlistSpec], aliases: Aliases = NO_ALIASES) -> Matcher:
    """Compile every watchlist into one matcher; raises QueryError naming the watchlist whose query is wrong.

    ``aliases`` are resolved ones (``aliases.resolve_aliases``): each name with its plain forms."""
    with _no_collections():
        compiler = _Compiler(aliases)
        parsed = [(spec, parse_watchlist(spec, aliases)) for spec in specs]
        _prime_stems(parsed)
        watchlists = [CompiledWatchlist(spec, parts, compiler) for spec, parts in parsed]
        return Matcher(
            watchlists, compiler.patterns, compiler.scans_url, aliases, compiler.forms, compiler.used
        )


@contextmanager
def _no_collections() -> Iterator[None]:
    """The cyclic garbage collector paused while compiling. Compiling makes hundreds of thousands of small
    objects that all stay alive, and every few hundred of them the collector walks the young ones, now and then
    the whole heap (the process's articles and caches included), to find nothing to free: that was more than
    half the CPU time of compiling 10,000 watchlists (1.5 s to 0.6 s measured with the benchmark's articles in
    memory). Only a call that found the collector on turns it back on, so nesting and threads are safe; garbage
    made meanwhile is collected at the next collection after.

    A large compile ends with one full collection: left young, its objects would be walked by a collection of
    the youngest generation, again by one of the middle generation, and then by a full one, all while the first
    articles are matched (0.45 s of 6 s matching 5,000 articles against 10,000 watchlists); one walk moves them
    to the oldest generation, which is walked again only when the heap has grown by a quarter."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            if gc.get_count()[0] > COLLECT_AFTER_OBJECTS:
                gc.collect()
