"""Text folding and words: the one definition of what a "word" is, shared by queries, terms and articles.

A word is a run of letters and digits (combining marks count as part of the word they follow) in the original
text. Each word is then folded: Unicode NFKC, case folding, diacritics dropped (é=e, İ=ı=i, ß=ss); a fold may
turn one run into several words ("½" gives "1 2") or none. Everything else separates words.

Folding costs more than scanning, so there are three paths that give the same words:
- ASCII text (after blanking the common non-ASCII punctuation of news text) is folded with one translate;
- other text whose lower-casing keeps its length is lower-cased whole and only non-ASCII words are folded one
  by one;
- the rest (a dotted İ changes length when lower-cased) is folded word by word from the original.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate, chain, repeat

# Combining marks are part of a word: NFKC composes most of them (e + ◌́ = é) and folding drops the rest.
_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# `\w` without the underscore, plus marks; the underscore is blanked beforehand.
_WORD_RE = re.compile(rf"[\w{_MARKS}]+")
_ALNUM_RE = re.compile(r"[^\W_]+")
_ASCII_WORD_RE = re.compile(r"[a-z0-9]+")

# Separators common in news text; blanking them (same length) lets most articles take the ASCII path.
_COMMON_SEPARATORS = "\xa0’‘“”–—…£€°•·´\xad\u200b\u200c\u200d\u2063\ufeff«»„"
_ASCII_FOLD = str.maketrans({chr(i): (chr(i).lower() if chr(i).isalnum() else " ") for i in range(128)})
# Letters that keep a stroke or are ligatures after NFD: fold them by hand.
_EXTRA_FOLD = str.maketrans(
    {"ı": "i", "ø": "o", "ł": "l", "đ": "d", "ħ": "h", "æ": "ae", "œ": "oe", "ŀ": "l"}
)

_word_cache: dict[str, str] = {}
_WORD_CACHE_LIMIT = 200_000


def fold_word(word: str) -> str:
    """Fold one run of word characters; the result holds zero, one or more words separated by spaces."""
    folded = _word_cache.get(word)
    if folded is None:
        if len(_word_cache) > _WORD_CACHE_LIMIT:
            _word_cache.clear()
        folded = _word_cache[word] = _fold_word_uncached(word)
    return folded


def _fold_word_uncached(word: str) -> str:
    text = unicodedata.normalize("NFKC", word).casefold()
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_EXTRA_FOLD)
    return " ".join(_ALNUM_RE.findall(text))


def _blank_common_separators(text: str) -> str:
    for separator in _COMMON_SEPARATORS:
        if separator in text:
            text = text.replace(separator, " ")
    return text


def _lowered_same_length(text: str) -> str | None:
    """The text lower-cased with underscores blanked, or None when lower-casing changes its length."""
    lowered = text.lower()
    if len(lowered) != len(text):
        return None
    return lowered.replace("_", " ")


def fold_words(text: str) -> list[str]:
    """The folded words of ``text``, in order (the fast path used to match articles)."""
    if not text.isascii():
        text = _blank_common_separators(text)
    if text.isascii():
        return text.translate(_ASCII_FOLD).split()
    lowered = _lowered_same_length(text)
    source = lowered if lowered is not None else text.replace("_", " ")
    words: list[str] = []
    for word in _WORD_RE.findall(source):
        if word.isascii() and lowered is not None:
            words.append(word)
        else:
            words.extend(fold_word(word).split())
    return words


def word_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets in ``text`` of each word ``fold_words`` gives, index for index.

    A run that folds into several words gives each of them the span of the whole run.
    """
    if not text.isascii():
        text = _blank_common_separators(text)
    if text.isascii():
        return _ascii_word_spans(text.translate(_ASCII_FOLD))
    lowered = _lowered_same_length(text)
    source = lowered if lowered is not None else text.replace("_", " ")
    spans: list[tuple[int, int]] = []
    for match in _WORD_RE.finditer(source):
        word = match.group()
        count = 1 if word.isascii() and lowered is not None else len(fold_word(word).split())
        spans.extend([match.span()] * count)
    return spans


def _ascii_word_spans(translated: str) -> list[tuple[int, int]]:
    # Without a Python step per word: interleave the lengths of separators and words and add them up.
    separators = _ASCII_WORD_RE.split(translated)
    words = _ASCII_WORD_RE.findall(translated)
    lengths = chain.from_iterable(zip(map(len, separators), map(len, words), strict=False))
    offsets = list(accumulate(lengths, initial=0))
    return list(zip(offsets[1::2], offsets[2::2], strict=False))


_SPACE_RUN_RE = re.compile(" {2,}")


def ascii_shifts(text: str) -> tuple[list[int], list[int], int] | None:
    """How " w1 w2 ... " positions map back to ``text`` when it takes the ASCII path, else None.

    Folding there is one character for one, except that runs of separators shrink to one space. So a word at
    padded position p starts at p - 1 + (characters dropped before it): one entry per run of two or more
    separators, far fewer than words. Returns (padded position after each run, dropped so far, leading run).
    """
    if not text.isascii():
        text = _blank_common_separators(text)
        if not text.isascii():
            return None
    translated = text.translate(_ASCII_FOLD)
    lead = len(translated) - len(translated.lstrip(" "))
    positions: list[int] = []
    dropped: list[int] = []
    total = lead
    for run in _SPACE_RUN_RE.finditer(translated, lead):
        total += run.end() - run.start() - 1
        positions.append(run.end() - total + 1)
        dropped.append(total)
    return positions, dropped, lead


def word_starts(words: list[str]) -> list[int]:
    """Offset of each word in " w1 w2 ... wn " (and a last entry one past the end), without a Python loop."""
    offsets = list(accumulate(chain.from_iterable(zip(map(len, words), repeat(1))), initial=1))
    return offsets[0::2]


def fold_words_slowly(text: str) -> list[str]:
    """The same words as ``fold_words``, by the plain definition: fold each run of the original text."""
    words: list[str] = []
    for match in _WORD_RE.finditer(text.replace("_", " ")):
        words.extend(fold_word(match.group()).split())
    return words


def fold_text(text: str) -> str:
    """The folded words of ``text`` separated by single spaces: fold_text("L3Harris WESCAM’s") == "l3harris wescam s"."""
    return " ".join(fold_words(text))


@dataclass(slots=True)
class FoldedField:
    """One field of an article, folded once; spans back to the original are worked out only when needed."""

    original: str
    words: list[str]
    padded: str  # " w1 w2 ... wn ", so that patterns " word " fall on word boundaries
    _starts: list[int] | None = field(default=None, repr=False)
    _spans: list[tuple[int, int]] | None = field(default=None, repr=False)
    _shifts: tuple[list[int], list[int], int] | bool | None = field(default=False, repr=False)

    @classmethod
    def of(cls, text: str) -> FoldedField:
        words = fold_words(text)
        return cls(text, words, " " + " ".join(words) + " ")

    @property
    def starts(self) -> list[int]:
        """Offset in ``padded`` of each word's first character."""
        if self._starts is None:
            self._starts = word_starts(self.words)
        return self._starts

    def char_span(self, first: int, last: int) -> tuple[int, int]:
        """Offsets in ``original`` from the start of word ``first`` to the end of word ``last``."""
        if self._shifts is False:
            self._shifts = ascii_shifts(self.original)
        shifts = self._shifts
        if not isinstance(shifts, tuple):
            return self.spans[first][0], self.spans[last][1]
        positions, dropped, lead = shifts
        starts = self.starts

        def original_start(word: int) -> int:
            index = bisect_right(positions, starts[word]) - 1
            return starts[word] - 1 + (dropped[index] if index >= 0 else lead)

        return original_start(first), original_start(last) + len(self.words[last])

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Offsets in ``original`` of each word."""
        if self._spans is None:
            self._spans = word_spans(self.original)
        return self._spans
