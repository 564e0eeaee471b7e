"""One article, folded and scanned once: which patterns each field holds, and where, worked out on demand.

Patterns are the texts the compiler made of the watchlists' phrases (see engine.py): " w1 w2 " (exact words),
" w1 w2" (the last word a prefix), and word-form patterns (negative numbers), found where their prefix occurs
and the article word there has the right stem. The Aho-Corasick automaton (``PatternScanner``) finds the written
patterns. The prefix of a one-word form is short and starts many article words, most of them not forms of the
word looked for, so those prefixes are not scanned for: what each distinct word of a field is a form of is
worked out once per word and article language (``Lexicon``) and kept for later articles. Where a pattern
occurs (its end offsets in the padded field, as the automaton gives them) is worked out only for the patterns a
match needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ahocorasick_rs

from monitor.models import TEXT_FIELDS

from .fold import FoldedField, fold_text
from .stems import MIN_PREFIX, WordForms, _is_form

SCANNED_FIELDS = (*TEXT_FIELDS, "url")
KEPT_LIMIT = 500_000  # (word, language) verdicts kept before starting afresh
WORDS_LIMIT = 100_000  # words kept per article language (about 15 MB) before starting afresh


class PatternScanner:
    """Every written pattern in one Aho-Corasick automaton (ahocorasick_rs, the Rust crate's contiguous NFA: its
    states lie in one array, where a trie of separately allocated nodes made a walk over 30,000 patterns wait on
    memory); ``hits`` gives each occurrence as (end, pattern), ``end`` the offset of its last character."""

    def __init__(self, patterns: Mapping[str, int]) -> None:
        texts = list(patterns)
        self.ids = [patterns[text] for text in texts]  # the automaton's pattern index -> our pattern number
        self.automaton: Any = ahocorasick_rs.AhoCorasick(
            texts, implementation=ahocorasick_rs.Implementation.ContiguousNFA
        )

    def hits(self, text: str) -> list[tuple[int, int]]:
        """(end, pattern) of every occurrence in ``text``, overlapping ones included, in the order of their ends."""
        ids = self.ids
        found: list[tuple[int, int]] = []
        for index, _, end in self.automaton.find_matches_as_indexes(text, overlapping=True):
            found.append((end - 1, ids[index]))
        return found


class FormChecks:
    """The word-form patterns behind each prefix pattern: prefix -> [(form pattern, prefix length, forms)]."""

    def __init__(self) -> None:
        self.checks: dict[int, list[tuple[int, int, WordForms]]] = {}
        self.patterns: frozenset[int] = frozenset()  # the prefix patterns of several words with form patterns
        # (prefix pattern, article word, language) -> the form patterns that word is a form of; shared by all
        # articles, since news text repeats its words.
        self.kept: dict[tuple[int, str, str | None], tuple[int, ...]] = {}

    def keep(
        self, key: tuple[int, str, str | None], checks: list[tuple[int, int, WordForms]]
    ) -> tuple[int, ...]:
        _, word, language = key
        if len(self.kept) >= KEPT_LIMIT:
            self.kept.clear()
        kept = self.kept[key] = tuple(
            virtual for virtual, _, forms in checks if forms.matches(word, language)
        )
        return kept


class Lexicon:
    """The word forms behind one-word prefixes, found from each field's set of words rather than by scanning.

    A prefix of word forms is short (the stem minus a letter) and starts many article words, most of them not
    forms of the word looked for: scanning for it gives every one of them to check. Instead, what each distinct
    article word is a form of is worked out once per word and article language (``kinds``) and kept for later
    articles; ``texts`` gives each form pattern its prefix text, to locate it when asked.
    """

    def __init__(
        self, prefixes: dict[str, int], checks: Mapping[int, list[tuple[int, int, WordForms]]]
    ) -> None:
        self.prefixes = prefixes  # one-word prefix -> pattern
        # The first MIN_PREFIX letters of the prefixes -> the prefixes starting so, shortest first, each with the
        # (form pattern, word, stems) of its word forms: most article words start like no prefix, and the others
        # are tried against the few prefixes that start like them (``str.startswith``: no string made).
        heads: dict[str, list[tuple[str, tuple[tuple[int, str, tuple[tuple[str, str], ...]], ...]]]] = {}
        for prefix, pattern in sorted(prefixes.items(), key=_prefix_length):
            if len(prefix) >= MIN_PREFIX:  # (all are: a shorter stem keeps the word exact)
                forms = tuple(
                    (virtual, word_forms.text, word_forms.stems) for virtual, _, word_forms in checks[pattern]
                )
                heads.setdefault(prefix[:MIN_PREFIX], []).append((prefix, forms))
        self.heads = {head: tuple(found) for head, found in heads.items()}
        self.texts: dict[int, str] = {}
        for prefix, pattern in prefixes.items():
            for virtual, _, _ in checks[pattern]:
                self.texts[virtual] = " " + prefix
        self.kinds: dict[str | None, dict[str, tuple[int, ...]]] = {}

    def word_patterns(self, language: str | None) -> dict[str, tuple[int, ...]]:
        """The form patterns of each word seen so far in articles in ``language`` (none: not a form)."""
        kinds = self.kinds.get(language)
        if kinds is None:
            kinds = self.kinds[language] = {}
        return kinds

    def learn(self, words: set[str], language: str | None) -> None:
        """Work out the form patterns of those of ``words`` not seen yet in ``language``. The words kept are dropped
        first when these would take them over the limit, never after: the article's own words stay known."""
        kinds = self.word_patterns(language)
        new = words.difference(kinds)  # (a set minus a dict: one lookup a word)
        if not new:
            return
        if len(kinds) + len(new) > WORDS_LIMIT:
            kinds.clear()
            new = words
        heads = self.heads
        for word in new:
            candidates = heads.get(word[:MIN_PREFIX])
            if candidates is None:
                kinds[word] = ()
                continue
            found: list[int] = []
            for prefix, forms in candidates:
                if len(prefix) > len(word):
                    break
                if word.startswith(prefix):
                    for virtual, text, stems in forms:
                        # (``WordForms.matches`` on its values, its prefix known to hold: a C call where compiled)
                        if _is_form(text, prefix, stems, word, language):
                            found.append(virtual)
            kinds[word] = tuple(found)


def _prefix_length(item: tuple[str, int]) -> int:
    return len(item[0])


class ArticleScan:
    """One article, folded and scanned once; positions and spans are worked out on demand."""

    def __init__(
        self,
        fields: Mapping[str, str],
        automaton: PatternScanner,
        scan_url: bool,
        forms: FormChecks,
        lexicon: Lexicon,
    ) -> None:
        self.folded: dict[str, FoldedField] = {}
        # Per field, where each of its words that is a word form starts in the padded field.
        self.places: dict[str, dict[str, list[int]]] = {}
        self.hits: dict[str, list[tuple[int, int]]] = {}
        self.found: dict[str, set[int]] = {}
        self.language = fields.get("language") or None
        self.lexicon = lexicon
        # Per field, its words that are word forms of one-word prefixes, with the form patterns of each.
        self.word_kinds: dict[str, dict[str, tuple[int, ...]]] = {}
        for name in SCANNED_FIELDS if scan_url else TEXT_FIELDS:
            folded = self.folded[name] = FoldedField(fields.get(name, ""))
            if folded.empty:
                self.hits[name] = []
                self.found[name] = set()
                self.word_kinds[name] = {}
                continue
            present = self.found[name] = set()
            field_words = folded.take_words()
            if lexicon.prefixes:
                held, places = _held_words(field_words, lexicon, self.language)
                self.word_kinds[name] = held
                _add_held(present, held)
                if places:
                    self.places[name] = places
            else:
                self.word_kinds[name] = {}
            hits = self.hits[name] = automaton.hits(folded.padded)
            if hits:
                _add_found(present, hits)
                if forms.patterns and not forms.patterns.isdisjoint(present):
                    self._add_word_forms(name, forms)

        found = self.found
        self.in_text = found["title"] | found["summary"] | found["body"]  # patterns found in a text field
        self.anywhere = self.present()  # patterns found in any field
        self.raw_feed = fields.get("feed", "")
        self._feed: str | None = None
        self._ends: dict[str, dict[int, list[int]]] = {}
        # Worked out once per article and shared by every watchlist that needs them: the occurrences of each
        # phrase (by its patterns) in each field, the evidence of each clause, the snippets of each evidence.
        self.occurrences: dict[tuple[str, tuple[int, ...]], list[tuple[int, int]]] = {}
        self.evidence: dict[Any, Any] = {}
        self.held: dict[Any, tuple[str, ...]] = {}  # phrase -> the fields it holds in
        # (NEAR clause, field) -> the occurrences of either side close to the other
        self.pairs: dict[tuple[Any, str], list[tuple[int, int]]] = {}
        self.how: dict[Any, str | None] = {}  # phrase -> how it was found
        self._holders: dict[str, dict[int, list[str]]] = {}  # field -> one-word pattern -> words holding it
        self.snippets: dict[tuple[int, ...], Any] = {}
        self.windows: dict[tuple[str, int, int], tuple[int, int, str]] = {}
        self.marks: dict[int, list[tuple[str, int, int]]] = {}  # id of an evidence -> its marks (snippets.py)

    def _add_word_forms(self, name: str, forms: FormChecks) -> None:
        """Where a word-form prefix of several words occurs, add the occurrence of each word-form pattern whose
        stem the article word has: from here on a word form is found like any exact pattern."""
        padded = self.folded[name].padded
        hits = self.hits[name]
        language = self.language
        added: list[tuple[int, int]] = []
        checks_of = forms.checks
        prefixes = forms.patterns
        kept_by_word = forms.kept
        for end, pattern in [hit for hit in hits if hit[1] in prefixes]:
            checks = checks_of[pattern]
            word = padded[end - checks[0][1] + 1 : padded.index(" ", end)]
            key = (pattern, word, language)
            kept = kept_by_word.get(key)
            if kept is None:
                kept = forms.keep(key, checks)
            if kept:
                added += [(end, virtual) for virtual in kept]
        hits += added
        _add_found(self.found[name], added)

    @property
    def feed(self) -> str:
        if self._feed is None:
            self._feed = fold_text(self.raw_feed)
        return self._feed

    def present(self) -> set[int]:
        return self.in_text.union(self.found["url"]) if "url" in self.found else self.in_text

    def ends(self, name: str, pattern: int) -> list[int]:
        """End offsets (in the padded field) of each occurrence of ``pattern``: its last character."""
        by_pattern = self._ends.get(name)
        if by_pattern is None:
            by_pattern = self._ends[name] = {}
            for end, found in self.hits[name]:
                found_ends = by_pattern.get(found)  # (not ``setdefault``: no list made for each hit)
                if found_ends is None:
                    by_pattern[found] = [end]
                else:
                    found_ends.append(end)
        ends = by_pattern.get(pattern)
        if ends is None:
            ends = by_pattern[pattern] = self._word_ends(name, pattern)
        return ends

    def _holding(self, name: str) -> dict[int, list[str]]:
        by_pattern = self._holders.get(name)
        if by_pattern is None:
            by_pattern = self._holders[name] = {}
            for word, held in self.word_kinds[name].items():
                for pattern in held:
                    by_pattern.setdefault(pattern, []).append(word)
        return by_pattern

    def _word_ends(self, name: str, pattern: int) -> list[int]:
        """Where a form pattern of a one-word prefix occurs: every occurrence of each field word that is one."""
        text = self.lexicon.texts.get(pattern)
        if text is None or pattern not in self.found.get(name, ()):
            return []
        places = self.places[name]
        ends: list[int] = []
        last = len(text) - 2  # from the first letter of the word to the last of the prefix " " + prefix
        for word in self._holding(name).get(pattern, ()):
            for start in places[word]:
                ends.append(start + last)
        ends.sort()
        return ends


def _held_words(
    words: list[str], lexicon: Lexicon, language: str | None
) -> tuple[dict[str, tuple[int, ...]], dict[str, list[int]]]:
    """Of a field's ``words``, those that are word forms of one-word prefixes, with the form patterns of each,
    and where each starts in the padded field " " + " ".join(words) + " ". One pass and one lookup a word; the
    words not seen yet in ``language`` are learnt (``Lexicon.learn``) and placed after it."""
    kinds = lexicon.word_patterns(language)
    held: dict[str, tuple[int, ...]] = {}
    places: dict[str, list[int]] = {}
    unknown: list[str] = []
    starts: list[int] = []  # of the unknown words
    at = 1
    shortest = MIN_PREFIX  # (a C integer where compiled: compared with each word's length)
    for word in words:
        size = len(word)
        if size < shortest:  # shorter than any prefix: never a form (nor learnt)
            at += size + 1
            continue
        kind = kinds.get(word)
        if kind is None:
            unknown.append(word)
            starts.append(at)
        elif kind:
            _place(held, places, word, kind, at)
        at += size + 1
    if unknown:
        lexicon.learn(set(unknown), language)  # (``kinds`` is kept in place: it holds them all now)
        for index, word in enumerate(unknown):
            kind = kinds[word]
            if kind:
                _place(held, places, word, kind, starts[index])
    return held, places


def _add_held(present: set[int], held: dict[str, tuple[int, ...]]) -> None:
    """Add the form patterns of each held word to ``present``, one at a time (a C loop where compiled: a
    ``set.update`` a word was a method call each, for one or two patterns)."""
    for patterns in held.values():
        for pattern in patterns:
            present.add(pattern)


def _add_found(present: set[int], hits: list[tuple[int, int]]) -> None:
    """Add the pattern of each automaton hit (end, pattern) to ``present``."""
    for hit in hits:
        present.add(hit[1])


def _place(
    held: dict[str, tuple[int, ...]], places: dict[str, list[int]], word: str, kind: tuple[int, ...], at: int
) -> None:
    found = places.get(word)
    if found is None:
        held[word] = kind
        places[word] = [at]
    else:
        found.append(at)
