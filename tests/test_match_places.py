"""The per-field tables the matcher builds in one pass: where each word of a folded field starts in the text it
was folded from (``fold._origin_table``), and where the words that are word forms start (``scan._word_places``).
Both are checked against the plain definition: the words of the padded field, one space apart."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.match.fold import _origin_table, ascii_translated
from monitor.match.scan import _word_places

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


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.sampled_from(["permit", "permits", "export", "a", "tb2"]), max_size=20),
    held=st.sets(st.sampled_from(["permit", "permits", "tb2", "absent"])),
)
def test_word_places_are_every_start_of_each_held_word(words: list[str], held: set[str]) -> None:
    padded = " " + " ".join(words) + " "
    places = _word_places(words, dict.fromkeys(held))
    expected: dict[str, list[int]] = {}
    for word in held:
        starts = [at + 1 for at in range(len(padded)) if padded.startswith(f" {word} ", at)]
        if starts:
            expected[word] = starts
    assert places == expected
