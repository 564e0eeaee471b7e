"""Snippets: about 200 characters of the original text around what matched, cut at word boundaries.

Marks are offsets of the matched words inside the snippet text. They come from the word spans of the original
text, so they stay right where folding changes length (İ, ß, ligatures).
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.models import Snippet

from .fold import FoldedField

SNIPPET_CHARS = 200
MAX_SNIPPETS = 3
_LEAD_CHARS = 60  # context kept before the first mark


class Evidence:
    """A clause that held, the field it held in, and where it occurred there (see FoldedField.char_span).

    An extension type where compiled (its fields are read directly); equal by what it holds."""

    __slots__ = ("field", "label", "occurrences")

    def __init__(self, label: str, field: str, occurrences: list[tuple[int, int]]) -> None:
        self.label = label
        self.field = field
        self.occurrences = occurrences  # (start, end) in the padded folded field

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Evidence):
            return NotImplemented
        return (self.label, self.field, self.occurrences) == (other.label, other.field, other.occurrences)

    def __repr__(self) -> str:
        return f"Evidence(label={self.label!r}, field={self.field!r}, occurrences={self.occurrences!r})"


Mark = tuple[str, int, int]  # (field, start, end) in the field's original text
Windows = dict[Mark, tuple[int, int, str]]  # mark -> snippet around it
Marks = dict[int, list[Mark]]  # id of an evidence -> the marks of its occurrences, in order


def build_snippets(
    evidence: list[Evidence],
    folded: Mapping[str, FoldedField],
    windows: Windows | None = None,
    marks_of: Marks | None = None,
) -> tuple[Snippet, ...]:
    """Up to three snippets: the first occurrence of each clause first, then further occurrences.

    ``windows`` keeps the snippet text around each mark and ``marks_of`` the marks of each evidence (by its id:
    the caller keeps the evidence alive meanwhile), to share between the matches of one article.
    """
    marks = _ordered_marks(evidence, folded, {} if marks_of is None else marks_of)
    if windows is None:
        windows = {}
    snippets: list[Snippet] = []
    covered: list[Mark] = []
    for mark in marks:
        if len(snippets) == MAX_SNIPPETS:
            break
        name, start, end = mark
        if _covered(covered, name, start, end):
            continue
        window = windows.get(mark)
        if window is None:
            window = windows[mark] = _snippet_window(folded[name].original, start, end)
        window_start, window_end, snippet_text = window
        snippets.append(_snippet(name, snippet_text, _marks_inside(marks, name, window_start, window_end)))
        covered.append((name, window_start, window_end))
    return tuple(snippets)


_new_object = object.__new__
# Each field's own slot setter (a member descriptor's __set__): no lookup of the name on the type at each call.
_set_field = Snippet.__dict__["field"].__set__
_set_text = Snippet.__dict__["text"].__set__
_set_marks = Snippet.__dict__["marks"].__set__


def _snippet(name: str, text: str, marks: tuple[tuple[int, int], ...]) -> Snippet:
    """``Snippet(name, text, marks)``, made without calling the frozen dataclass's ``__init__``: that is an
    interpreted function setting each field through ``object.__setattr__``, which cost more than building the
    rest of the snippet where compiled. The same slots are set, so the snippet is the same
    (tests/test_match_compiled.py compares it with one made by ``Snippet``)."""
    snippet = _new_object(Snippet)
    _set_field(snippet, name)
    _set_text(snippet, text)
    _set_marks(snippet, marks)
    return snippet


def _marks_inside(
    marks: list[Mark], name: str, window_start: int, window_end: int
) -> tuple[tuple[int, int], ...]:
    """The marks of field ``name`` inside [window_start, window_end), as offsets into the window, in order."""
    inside: set[tuple[int, int]] = set()
    for mark in marks:
        if mark[0] == name:
            start = mark[1]
            end = mark[2]
            if window_start <= start and end <= window_end:
                inside.add((start - window_start, end - window_start))
    return tuple(sorted(inside))


def _covered(covered: list[Mark], name: str, start: int, end: int) -> bool:
    """Whether [start, end) of field ``name`` lies inside one of the ``covered`` windows."""
    for c_name, c_start, c_end in covered:
        if name == c_name and c_start <= start and end <= c_end:
            return True
    return False


def _ordered_marks(
    evidence: list[Evidence], folded: Mapping[str, FoldedField], marks_of: Marks
) -> list[Mark]:
    """Character spans (field, start, end) of every occurrence, first occurrences of each clause leading, each
    once. The list given for one clause is the one ``marks_of`` keeps: not to be changed."""
    if len(evidence) == 1:  # the common case: one clause held
        return _marks_of(evidence[0], folded, marks_of)
    first: list[Mark] = []
    rest: list[Mark] = []
    for item in evidence:
        marks = _marks_of(item, folded, marks_of)
        if marks:
            first.append(marks[0])
            rest += marks[1:]
    return list(dict.fromkeys(first + rest)) if rest or len(first) > 1 else first


def _marks_of(item: Evidence, folded: Mapping[str, FoldedField], marks_of: Marks) -> list[Mark]:
    """The character spans of the occurrences of one evidence, in order and each once, worked out once."""
    marks = marks_of.get(id(item))
    if marks is None:
        marks = []
        if item.occurrences and item.field in folded:
            name = item.field
            field = folded[name]
            for start, end in item.occurrences:
                span = field.char_span(start, end)
                marks.append((name, span[0], span[1]))
            if len(marks) > 1:
                marks = list(dict.fromkeys(marks))  # (folding can make two words of one original run)
        marks_of[id(item)] = marks
    return marks


def _snippet_window(text: str, start: int, end: int) -> tuple[int, int, str]:
    window_start, window_end = _window(text, start, end)
    snippet = text[window_start:window_end].replace("\n", " ").replace("\r", " ").replace("\t", " ")
    return window_start, window_end, snippet


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    """About SNIPPET_CHARS of ``text`` holding [start, end), starting and ending on word boundaries."""
    window_start = max(0, start - _LEAD_CHARS)
    if window_start > 0:
        space = text.find(" ", window_start, start)
        window_start = space + 1 if space != -1 else start
    window_end = min(len(text), max(end, window_start + SNIPPET_CHARS))
    if window_end < len(text):
        space = text.rfind(" ", end, window_end + 1)
        window_end = space if space != -1 else window_end
    while window_end > window_start and text[window_end - 1].isspace():
        window_end -= 1
    while window_start < start and text[window_start].isspace():
        window_start += 1
    return window_start, window_end
