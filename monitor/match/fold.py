"""Text folding and words: the one definition of what a "word" is, shared by queries, terms and articles.

A word is a run of letters and digits (combining marks count as part of the word they follow) in the original
text. Each word is then folded: Unicode NFKC, case folding, diacritics dropped (é=e, İ=ı=i, ß=ss); a fold may
turn one run into several words ("½" gives "1 2") or none. Everything else separates words.

Folding costs more than scanning, so there are two paths that give the same words:
- ASCII text (after blanking the common non-ASCII punctuation of news text) is folded with one translate;
- other text is lower-cased whole (unless that changes its length, as a dotted İ does), its few non-ASCII
  characters are marked by the ASCII encoder as word characters or separators, and only the runs holding
  non-ASCII word characters are folded one by one.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from array import array
from bisect import bisect_right

# Combining marks are part of a word: NFKC composes most of them (e + ◌́ = é) and folding drops the rest.
_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# `\w` without the underscore, plus marks; the underscore is blanked beforehand.
_WORD_RE = re.compile(rf"[\w{_MARKS}]+")
_ALNUM_RE = re.compile(r"[^\W_]+")

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
        if len(_word_cache) >= _WORD_CACHE_LIMIT:
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


def ascii_translated(text: str) -> str | None:
    """``text`` with letters and digits lower-cased and everything else blanked, one character for one, when it
    takes the ASCII path; else None."""
    if not text.isascii():
        text = _blank_common_separators(text)
        if not text.isascii():
            return None
    return text.translate(_ASCII_FOLD)


def fold_words(text: str) -> list[str]:
    """The folded words of ``text``, in order (the fast path used to match articles)."""
    translated = ascii_translated(text)
    if translated is not None:
        return translated.split()
    return _unicode_fold(text)[1]


def word_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets in ``text`` of each word ``fold_words`` gives, index for index, the plain way
    (``FoldedField.char_span`` gives the same without a step per word).

    A run that folds into several words gives each of them the span of the whole run.
    """
    spans: list[tuple[int, int]] = []
    for match in _WORD_RE.finditer(_blank_common_separators(text).replace("_", " ")):
        spans += [match.span()] * len(fold_word(match.group()).split())
    return spans


def _unicode_fold(text: str) -> tuple[str, list[str], list[tuple[int, int]]]:
    """Text off the ASCII path: (marked, words, uneven).

    ``marked`` is the text one character for one with ASCII letters and digits lower-cased, other word
    characters as _WORD_MARK and everything else blanked: its runs are the runs of word characters, found
    without a regular expression pass over the Unicode text (the encoder finds the few non-ASCII characters).
    Runs holding a _WORD_MARK are folded one by one, the others are already folded. ``uneven`` gives the start
    and the number of words of each run that does not fold into exactly one word.
    """
    lowered = text.lower()
    source = lowered if len(lowered) == len(text) else text  # fold runs of the original when İ changes length
    if _WORD_MARK in source:
        source = source.replace(_WORD_MARK, " ")  # a control character, a separator anyway
    marked = source.encode("ascii", _MARK_ERRORS).decode("ascii").translate(_MARKED_FOLD)
    words: list[str] = []
    uneven: list[tuple[int, int]] = []
    done = 0
    at = marked.find(_WORD_MARK)
    while at != -1:
        start = marked.rfind(" ", 0, at) + 1
        end = marked.find(" ", at)
        end = len(marked) if end == -1 else end
        folded = fold_word(source[start:end]).split()
        words += marked[done:start].split()
        words += folded
        if len(folded) != 1:
            uneven.append((start, len(folded)))
        done = end
        at = marked.find(_WORD_MARK, end)
    words += marked[done:].split()
    return marked, words, uneven


_WORD_MARK = "\x01"
_MARKED_FOLD = {**_ASCII_FOLD, ord(_WORD_MARK): _WORD_MARK}
_MARK_ERRORS = "monitor.match.mark"
_char_marks: dict[str, str] = {}


def _mark_characters(error: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: each non-ASCII character becomes _WORD_MARK if it is a word character, else a
    space."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    marks = []
    for char in error.object[error.start : error.end]:
        mark = _char_marks.get(char)
        if mark is None:
            mark = _char_marks[char] = _WORD_MARK if _WORD_RE.match(char) else " "
        marks.append(mark)
    return "".join(marks), error.end


codecs.register_error(_MARK_ERRORS, _mark_characters)


def _run_table(marked: str) -> tuple[list[int], list[int]]:
    """Start and end of each run of ``marked``, in one pass (a C loop where compiled)."""
    starts: list[int] = []
    ends: list[int] = []
    in_run = False
    for offset, char in enumerate(marked):
        if char == " ":
            if in_run:
                ends.append(offset)
                in_run = False
        elif not in_run:
            starts.append(offset)
            in_run = True
    if in_run:
        ends.append(len(marked))
    return starts, ends


def fold_words_slowly(text: str) -> list[str]:
    """The same words as ``fold_words``, by the plain definition: fold each run of the original text."""
    words: list[str] = []
    for match in _WORD_RE.finditer(text.replace("_", " ")):
        words.extend(fold_word(match.group()).split())
    return words


def fold_text(text: str) -> str:
    """The folded words of ``text`` separated by single spaces: fold_text("L3Harris WESCAM’s") == "l3harris wescam s"."""
    return " ".join(fold_words(text))


class FoldedField:
    """One field of an article, folded once; offsets back to the original are worked out only when needed.

    Occurrences are given as offsets in ``padded``: (start of the first word, end of the last word). On the
    ASCII path (nearly every field of news text) the translated text keeps every character of the original in
    place, and its words are those of ``padded`` in the same order: the first time a place is asked, one pass
    over it gives the offset of each word start of ``padded`` (``_origin_table``, a C loop where compiled), and
    every place after is one lookup. Other text builds a table of its runs and one of the index of each word of
    ``padded`` (one pass each) the first time a place is asked, and every place after is a few lookups.
    """

    __slots__ = ("_marked", "_origins", "_runs", "_uneven", "_words", "original", "padded", "translated")

    def __init__(self, text: str) -> None:
        self.original = text
        self.translated = ascii_translated(text)  # folded one character for one (ASCII path), else None
        self._marked = ""
        self._uneven: list[tuple[int, int]] = []
        if self.translated is not None:
            words = self.translated.split()
        else:
            self._marked, words, self._uneven = _unicode_fold(text)
        self.padded = " " + " ".join(words) + " "  # patterns " word " fall on word boundaries
        self._words: list[str] | None = words
        self._origins: array[int] | None = None  # word start in padded -> its offset in translated
        # Off the ASCII path: the start and end of each run, the runs not folding into one word, and the index of
        # the word starting at each offset of padded (``_word_index_table``).
        self._runs: tuple[list[int], list[int], list[tuple[int, int]], array[int]] | None = None

    def take_words(self) -> list[str]:
        """The folded words, in order (``padded.split()``), given once: the field does not keep them after."""
        words = self._words
        self._words = None
        return self.padded.split() if words is None else words

    @property
    def empty(self) -> bool:
        return len(self.padded) <= 2

    def char_span(self, start: int, end: int) -> tuple[int, int]:
        """Offsets in ``original`` of the words from padded offset ``start`` to padded offset ``end`` (lookups in
        tables made once a field: nothing to keep)."""
        translated = self.translated
        if translated is not None:
            origins = self._origins
            if origins is None:
                origins = self._origins = _origin_table(translated, len(self.padded))
            last = max(start, self.padded.rfind(" ", start, end) + 1)  # the first character of the last word
            return origins[start], origins[last] + end - last
        runs = self._runs
        if runs is None:
            starts, ends = _run_table(self._marked)
            uneven = [(bisect_right(starts, at) - 1, words) for at, words in self._uneven]
            runs = self._runs = starts, ends, uneven, _word_index_table(self.padded)
        starts, ends, uneven, word_at = runs
        last = max(start, self.padded.rfind(" ", start, end) + 1)  # the first character of the last word
        return starts[_run_of(word_at[start], uneven)], ends[_run_of(word_at[last], uneven)]


def _origin_table(translated: str, size: int) -> array[int]:
    """For each offset of the padded field (``size`` long) where a word starts, that word's offset in
    ``translated`` (0 elsewhere): its words are the padded field's, apart by runs of spaces instead of one."""
    table = array("q", [0]) * size
    view = memoryview(table)  # (a C array where compiled)
    at = 0  # offset in padded of the character read next
    in_word = False
    for offset, char in enumerate(translated):
        if char == " ":
            in_word = False
        else:
            if not in_word:
                in_word = True
                at += 1  # the one space before each word in padded
                view[at] = offset
            at += 1
    return table


def _word_index_table(padded: str) -> array[int]:
    """For each offset of ``padded`` where a word starts, the index of that word (0 elsewhere): the words are
    one space apart, so a word starts after every space but the last (a C loop where compiled)."""
    size = len(padded)
    table = array("i", bytes(4 * size))
    view = memoryview(table)  # (a C array where compiled)
    index = 0
    for offset, char in enumerate(padded):
        if char == " " and offset + 1 < size:
            view[offset + 1] = index
            index += 1
    return table


def _run_of(word: int, uneven: list[tuple[int, int]]) -> int:
    """The run that word ``word`` comes from, given (run, words) of the runs not folding into one word."""
    shift = 0  # words minus runs before the run looked at
    for run, words in uneven:
        if word < run + shift:
            break
        if word < run + shift + words:
            return run
        shift += words - 1
    return word - shift
