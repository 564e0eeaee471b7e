# cython: boundscheck=False, wraparound=False
"""The features of a text for the language detector: py3langid's walk of its model's automaton over the text's
UTF-8 bytes, counting each feature (an n-gram of bytes) the walk reaches; compiled (setup.py).

py3langid walks in a pure Python loop (``visit_counts``), three lookups a byte and a list append a feature
reached, then counts them in a ``Counter``: more than half the CPU of a detection. ``walk`` is the same walk over
the same automaton (the moves of each row and byte, each state's row start pre-shifted by 8 bits, the feature
each state outputs or -1), on C integers where it is compiled (langid_walk.pxd), with its moves in 16 bits as the
model's cache file numbers the states (``langid_model.number_by_byte``) or in 32 as py3langid does, and counts
the features in a small open-addressing table instead of a dictionary a feature reached. It gives the same
counts in the same order: the order in which the features were first reached, as the ``Counter`` keeps them,
which is the order py3langid sums their scores in (tests/test_langid_walk.py); as two arrays, which the scoring
reads as they are.

``count_features`` takes the compiled walk where the arrays are buffers of the types it is compiled for (those of
the model's cache file, ``langid_model``, and py3langid's own once copied into arrays) and py3langid's own loop
otherwise.

``float_rows`` widens the rows of the model's float16 scores that a text's features select to float32, exactly,
for the product that scores them; numpy widens them inside the product, the same numbers, several times slower.

Compiled, indexes are not checked by Cython at each access (the first line: a check at each number kept the
compiler from turning ``float_rows``'s loop into vector instructions); each function checks what it reads from
its arguments instead, so that a damaged model raises IndexError rather than reading outside its arrays.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from typing import Any

from py3langid.langid import visit_counts

# The compiled module (setup.py), or its source run as plain Python (where ``float_rows`` is slower than numpy).
COMPILED = not __file__.endswith(".py")
# The buffer formats ``walk`` is compiled for: the moves in unsigned 16 or 32 bits (``NEXTMOVE_FORMATS``), the
# first state of each byte, the row starts in unsigned 32 bits, the features signed.
NEXTMOVE_FORMATS, BYTEBASE_FORMAT, ROWBASE_FORMAT, OUTPUT_FORMAT = ("H", "I"), "I", "I", "i"
# The first states of py3langid's own numbering, all 0: each move is the state itself.
NO_BYTEBASE = array(BYTEBASE_FORMAT, bytes(4 * 256))


# Each feature reached, in the order first reached, and how often (py3langid's ``Counter``'s keys and values).
Counts = tuple["array[int]", "array[int]"]


def walk(nextmove: Any, bytebase: Any, rowbase: Any, output: Any, text: Any) -> Counts | None:
    """Each feature the automaton reaches over the bytes of ``text`` and how often, in the order first
    reached, as two arrays; None when it reaches none (py3langid's ``visit_counts``). The state after a byte is
    that byte's first state (``bytebase``) plus the move (``nextmove``): py3langid's own arrays with
    ``NO_BYTEBASE``, or the cache file's, where the states each byte leads to are numbered together and a move
    fits in 16 bits."""
    states, moves = min(len(rowbase), len(output)), len(nextmove)
    if len(text) and not states:
        raise IndexError("the automaton has no states")
    if len(bytebase) != 256:
        raise IndexError(f"{len(bytebase)} first states, not one a byte")
    reached = array("i", bytes(4 * len(text)))  # the features reached, in order: at most one a byte
    count = 0
    state = 0
    for index in range(len(text)):
        byte = text[index]
        move = rowbase[state] + byte
        if move >= moves:
            raise IndexError(f"state {state}'s row is not in the automaton")
        state = bytebase[byte] + nextmove[move]
        if state >= states:
            raise IndexError(f"state {state} is not in the automaton")
        feature = output[state]
        if feature >= 0:
            reached[count] = feature
            count += 1
    return _tally(reached, count) if count else None


# ``walk`` as the Python object that picks the compiled walk for the moves' width at each call.
_walk = walk


def _tally(reached: Any, count: int) -> Counts:
    """The distinct features of the first ``count`` of ``reached``, in the order first seen, and how often each
    occurs there: two arrays, handed to the scoring as they are (a dictionary cost as much as the walk)."""
    size = 4
    while size < 2 * count:  # at most half full: short probes
        size *= 2
    mask = size - 1
    keys = array("i", [-1]) * size  # -1: a free place (features are never negative)
    times = array("i", bytes(4 * size))
    first = array("i", bytes(4 * count))  # the places of the distinct features, in the order first seen
    distinct = 0
    for index in range(count):
        feature = reached[index]
        place = (feature * 40503) & mask
        while keys[place] != feature and keys[place] != -1:
            place = (place + 1) & mask
        if keys[place] == -1:
            keys[place] = feature
            first[distinct] = place
            distinct += 1
        times[place] += 1
    features, counts = array("i", bytes(4 * distinct)), array("i", bytes(4 * distinct))
    into_features, into_counts = features, counts  # typed views of them where compiled
    for index in range(distinct):
        into_features[index] = keys[first[index]]
        into_counts[index] = times[first[index]]
    return features, counts


def float_rows(half_bits: Any, features: Any, width: int, into: Any) -> None:
    """Rows ``features`` of a table of ``width`` float16 columns (``half_bits``: its bits, row after row), written
    into ``into`` (as long as they are, and not zeroed beforehand: numpy's ``empty``) as the bits of float32
    numbers, row after row: the same values, exactly."""
    if len(into) != len(features) * width:
        raise ValueError(f"{len(into)} places for {len(features)} rows of {width}")
    height = len(half_bits) // width
    for row in range(len(features)):
        feature = features[row]
        if feature < 0 or feature >= height:
            raise IndexError(f"row {feature} is not in the table")
        start, at = feature * width, row * width
        special = 0
        for column in range(width):  # as normal numbers: the exponent's bias from 15 to 127
            half = half_bits[start + column]
            into[at + column] = (half & 0x8000) << 16 | ((half & 0x7FFF) + 0x1C000) << 13
            special |= ((half & 0x7C00) == 0) | ((half & 0x7C00) == 0x7C00)
        if special:  # a zero, subnormal, infinity or NaN in the row: each number on its own
            for column in range(width):
                into[at + column] = float_bits(half_bits[start + column])


def float_bits(half: int) -> int:
    """The bits of the float32 number equal to the float16 number of bits ``half`` (numpy's conversion)."""
    sign = (half & 0x8000) << 16
    exponent = half & 0x7C00
    mantissa = half & 0x03FF
    if exponent == 0x7C00:  # infinity, or NaN with its payload
        return sign | 0x7F800000 | mantissa << 13
    if exponent:  # a normal number: the exponent's bias from 15 to 127
        return sign | ((half & 0x7FFF) + 0x1C000) << 13
    if not mantissa:  # zero
        return sign
    shift = 0  # a subnormal number: normal in float32, its leading bit shifted to the implicit place
    while not mantissa & 0x0400:
        mantissa <<= 1
        shift += 1
    return sign | (113 - shift) << 23 | (mantissa & 0x03FF) << 13


def count_features(
    nextmove: Sequence[int],
    bytebase: Sequence[int],
    rowbase: Sequence[int],
    output: Sequence[int],
    text: bytes,
) -> Counts | None:
    """``walk`` where the arrays are buffers of its types (and the text bytes) or the first states are not all
    zero (py3langid's loop knows none), py3langid's loop otherwise (its counts as ``walk``'s two arrays)."""
    if (
        type(text) is bytes
        and _format(nextmove) in NEXTMOVE_FORMATS
        and _format(bytebase) == BYTEBASE_FORMAT
        and _format(rowbase) == ROWBASE_FORMAT
        and _format(output) == OUTPUT_FORMAT
    ) or any(bytebase):
        walked: Counts | None = _walk(nextmove, bytebase, rowbase, output, text)
        return walked
    found: Mapping[int, int] | None = visit_counts(nextmove, rowbase, output, text)
    return None if found is None else (array("i", found.keys()), array("i", found.values()))


def as_walk_array(values: Sequence[int], format: str) -> Sequence[int]:
    """``values`` as a buffer of ``format`` for ``walk``: as they are when they already are one, else copied
    into an array (py3langid's row starts and outputs are lists), else as they are (values out of its range)."""
    if _format(values) == format:
        return values
    try:
        return array(format, values)
    except (OverflowError, TypeError):
        return values


def _format(values: object) -> str | None:
    """The element format of a one-dimensional, contiguous buffer; None for anything else."""
    try:
        view = memoryview(values)  # type: ignore[arg-type]
    except TypeError:
        return None
    return view.format if view.ndim == 1 and view.c_contiguous else None
