"""The per-field tables the matcher builds in one pass: where each word of a folded field starts in the text it
was folded from (``fold._origin_table``), and which words of a field are word forms and where they start
(``scan._held_words``). Both are checked against the plain definitions: the words of the padded field, one space
apart, and ``WordForms.matches`` on each word."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.match import compile_watchlists, scan
from monitor.match.engine import Matcher
from monitor.match.fold import _origin_table, _word_index_table, ascii_translated
from monitor.match.scan import FormChecks, Lexicon, _held_words
from monitor.models import WatchlistSpec

WORDS = ["a", "permit", "permits", "Wescam", "tb2", "15", "x"]
GAPS = [" ", "  ", ", ", "-", "\n\t", " (", ") ", "’", "…"]


@st.composite
def ascii_texts(draw: st.DrawFn) -> str:
    """Texts that take the ASCII path: words between runs of separators, at either end or not."""
    parts = [draw(st.sampled_from(GAPS)) if draw(st.booleans()) else ""]
    for word in draw(st.lists(st.sampled_from(WORDS), max_size=12)):
        parts += [word, draw(st.sampled_from(GAPS))]
    if parts[-1:] and draw(st.booleans()):
        parts.pop()  # the text ends on a word
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(text=ascii_texts())
def test_origin_table_gives_each_word_start_in_the_text(text: str) -> None:
    translated = ascii_translated(text)
    assert translated is not None
    words = translated.split()
    padded = " " + " ".join(words) + " "
    table = _origin_table(translated, len(padded))
    assert len(table) == len(padded)
    at, offset = 1, 0
    for word in words:
        offset = translated.index(word, offset)
        while offset > 0 and translated[offset - 1] != " ":  # a word inside another is not a word start
            offset = translated.index(word, offset + 1)
        assert table[at] == offset
        assert text[offset : offset + len(word)].lower() == word
        offset += len(word)
        at += len(word) + 1


def test_origin_table_of_a_text_without_words() -> None:
    assert list(_origin_table("   ", 2)) == [0, 0]


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.sampled_from(["x", "ab", "straße", "ıi", "1", "2"]), max_size=12))
def test_word_index_table_gives_each_word_start_its_index(words: list[str]) -> None:
    """Off the ASCII path a place's word is looked up, not counted: the index of the word at each word start."""
    padded = " " + " ".join(words) + " "
    table = _word_index_table(padded)
    assert len(table) == len(padded)
    starts = [at + 1 for at in range(len(padded) - 1) if padded[at] == " "]
    assert [table[at] for at in starts[: len(words)]] == list(range(len(words)))
    assert all(table[at] == 0 for at in range(len(padded)) if at not in starts)


FORMS = ["permit", "permits", "permitted", "permis", "export", "exports", "licence", "licences", "a", "tb2"]


def lexicon() -> Lexicon:
    return _matcher()._lexicon


def _matcher() -> Matcher:
    return compile_watchlists(
        [
            WatchlistSpec("en", terms=("permit", "export"), languages=("en",)),
            WatchlistSpec("fr", terms=("licence", "permis"), languages=("fr",)),
        ]
    )


def plain_held(
    words: list[str], lexicon: Lexicon, checks: FormChecks, language: str | None
) -> dict[str, set[int]]:
    """Each word's form patterns by the plain rule: every prefix it starts with, every forms' ``matches``."""
    held: dict[str, set[int]] = {}
    for word in words:
        found = {
            virtual
            for prefix, pattern in lexicon.prefixes.items()
            if word.startswith(prefix)
            for virtual, _, forms in checks.checks[pattern]
            if forms.matches(word, language)
        }
        if found:
            held[word] = found
    return held


@settings(max_examples=200, deadline=None)
@given(
    articles=st.lists(st.lists(st.sampled_from(FORMS), max_size=15), min_size=1, max_size=4),
    languages=st.lists(st.sampled_from(["en", "fr", None]), min_size=4, max_size=4),
)
def test_held_words_are_the_word_forms_and_their_starts_whether_learnt_now_or_before(
    articles: list[list[str]], languages: list[str | None]
) -> None:
    """Field after field on one lexicon: words met for the first time in a language and words already known in it
    give the same verdicts, and every start of each held word is given, in order."""
    matcher = _matcher()
    kept = matcher._lexicon
    for words, language in zip(articles, languages, strict=False):
        held, places = _held_words(words, kept, language)
        plain = plain_held(words, kept, matcher._forms, language)
        assert {word: set(kinds) for word, kinds in held.items()} == plain
        padded = " " + " ".join(words) + " "
        assert places == {
            word: [at + 1 for at in range(len(padded)) if padded.startswith(f" {word} ", at)] for word in held
        }


def test_held_words_outlive_the_limit_on_kept_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the limit the kept words are dropped before learning, never the field's own."""
    monkeypatch.setattr(scan, "WORDS_LIMIT", 3)
    kept = lexicon()
    _held_words(["export", "permits", "a", "tb2"], kept, "en")
    held, places = _held_words(["licences", "permitted", "exports", "permits", "x"], kept, "en")
    # "licences" too: the fr watchlist's word is looked for by its fr stem in articles in other languages.
    assert set(held) == {"licences", "permitted", "exports", "permits"}
    assert places == {"licences": [1], "permitted": [10], "exports": [20], "permits": [28]}
    # The words kept before are dropped; words shorter than any prefix ("a", "x") are never forms nor kept.
    assert set(kept.word_patterns("en")) == {"licences", "permitted", "exports"}
