"""Word forms: Snowball stems of folded words, and the one rule for when an article word is a form of a term word.

A term word written without ``=``, ``*`` or digits is looked for in its inflected forms: an article word is a
form of it when both have the same stem in the article's language. When the article's language is unknown or
has no stem here, the stems of every language the watchlist is written for are tried (recall first). Stems
are taken of folded words (no case, no accents) on both sides, so both sides are stemmed alike.

An inflected form must also begin with the stem's first letters (the stem minus its last letter, at least
three letters): that is what lets the automaton find candidates by prefix. Snowball changes only the end of a
word, so this loses very little (measured on the corpus sentences: none in en, es, tr, ru; 0.2 % of the words
in fr, "applications"; 0.4 % in de, "ueber").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import Stemmer

# Language codes (ISO 639-1) with a Snowball stemmer.
STEMMERS = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "eo": "esperanto", "es": "spanish", "et": "estonian", "eu": "basque", "fa": "persian", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "nl": "dutch", "no": "norwegian", "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian",
    "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip
# The languages a watchlist without a ``languages`` key is stemmed in.
DEFAULT_STEM_LANGUAGES = ("en", "fr", "de", "es", "tr", "ru")
MIN_PREFIX = 3


@cache
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(STEMMERS[language], 0)  # no cache of its own: ours is a plain dict, and faster


STEM_CACHE_LIMIT = 200_000  # words per language
# Per language: folded word -> stem. Shared by compiling and matching, since both stem the same words.
_stems: dict[str, dict[str, str]] = {}


def stem(language: str, word: str) -> str:
    """The Snowball stem of a folded word."""
    by_language = _stems  # (a dictionary typed where compiled: its lookups are C calls, not method calls)
    known = by_language.get(language)
    if known is None:
        known = by_language[language] = {}
    result = known.get(word)
    if result is None:
        if len(known) >= STEM_CACHE_LIMIT:
            known.clear()
        result = known[word] = _stemmer(language).stemWord(word)
    return result


def prime(words: Iterable[str], languages: Iterable[str]) -> None:
    """Stem ``words`` in each of ``languages`` ahead of ``stem``, one call a language for those not stemmed yet
    (compiling thousands of watchlists: a call a word costs more than the stemming)."""
    todo = {word for word in words if stemmable(word)}
    for code in languages:
        if code not in STEMMERS:
            continue
        known = _stems.setdefault(code, {})
        missing = list(todo.difference(known))
        if missing and len(known) + len(missing) < STEM_CACHE_LIMIT:
            known.update(zip(missing, _stemmer(code).stemWords(missing), strict=True))


def stemmable(word: str) -> bool:
    """Words of letters only are stemmed; codes such as "tb2" or "15" are kept exact."""
    return word.isalpha() and len(word) > MIN_PREFIX


@dataclass(frozen=True, slots=True)
class WordForms:
    """A term word with its stem in each language it is stemmed in, and the first letters every form shares."""

    text: str  # folded, as written
    stems: tuple[tuple[str, str], ...]  # (language, stem)
    prefix: str

    def matches(self, word: str, language: str | None) -> bool:
        """Whether the folded article ``word`` is this word or one of its forms, in an article in ``language``."""
        return _is_form(self.text, self.prefix, self.stems, word, language)

    def stems_for(self, language: str | None) -> tuple[tuple[str, str], ...]:
        for code, wanted in self.stems:
            if code == language:
                return ((code, wanted),)
        return self.stems  # unknown language, or none stemmed here: every stem (recall first)

    def language_of(self, word: str, language: str | None) -> str | None:
        """The language whose stem made ``word`` a form of this word (None when it is this word)."""
        if word == self.text:
            return None
        for code, wanted in self.stems_for(language):
            if stem(code, word) == wanted:
                return code
        return None


def _is_form(
    text: str, prefix: str, stems: tuple[tuple[str, str], ...], word: str, language: str | None
) -> bool:
    """``WordForms.matches``, on the values of the word forms (a plain function, typed where compiled)."""
    if word == text:
        return True
    if not word.startswith(prefix):
        return False
    if language is not None:
        for code, wanted in stems:
            if code == language:
                return stem(code, word) == wanted
    for code, wanted in stems:  # unknown language, or none stemmed here: every stem (recall first)
        if stem(code, word) == wanted:
            return True
    return False


@lru_cache(maxsize=100_000)
def word_forms(word: str, languages: tuple[str, ...]) -> WordForms | None:
    """The forms of ``word`` in ``languages``, or None when it is matched exactly (no stemmer, too short).

    Memoised: watchlists repeat their words, and a word's forms depend only on it and the languages."""
    if not stemmable(word):
        return None
    stems: list[tuple[str, str]] = []
    prefix = word
    for code in languages:
        if code not in STEMMERS:
            continue
        stemmed = stem(code, word)
        shared = stemmed[:-1]  # Snowball mostly cuts the end: then that is the common prefix, cut short
        if not word.startswith(shared):
            shared = _common_prefix(word, stemmed)[: len(stemmed) - 1]
        if len(shared) < MIN_PREFIX:
            continue  # a stem this short would find unrelated words: this language keeps the exact form
        stems.append((code, stemmed))
        prefix = shared if len(shared) < len(prefix) else prefix
    if not stems:
        return None
    return WordForms(word, tuple(stems), prefix)


def _common_prefix(first: str, second: str) -> str:
    size = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        size += 1
    return first[:size]


def stem_languages(stem_enabled: bool, languages: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The languages a watchlist's words are stemmed in; None when it keeps every word exact."""
    if not stem_enabled:
        return None
    return languages or DEFAULT_STEM_LANGUAGES


def forms_of(text: str, *, prefix: bool, exact: bool, languages: tuple[str, ...] | None) -> WordForms | None:
    """The forms a term word is looked for in: None for prefixes, ``=`` words and watchlists with stem off."""
    if languages is None or prefix or exact:
        return None
    return word_forms(text, languages)
