"""The compiled walk that counts a text's features for the language detector (monitor/match/langid_walk.py) gives
py3langid's own counts (``visit_counts``), in the same order, compiled and run as plain Python, on every corpus
sentence and article and on hostile bytes; the scores' rows are widened from float16 to the same float32 numbers
as numpy's; and detection through both answers as py3langid's own identifier does, to the last bit."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import random
import types
from array import array
from collections.abc import Callable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts

from monitor.match import langid_walk
from monitor.match.langid_model import Identifier, load_identifier, move_type, number_by_byte
from monitor.match.language import MIN_CONFIDENCE, MIN_LETTERS, SAMPLE_CHARS, detect_language
from tests.corpus import corpus

Walk = Callable[[Any, Any, Any, Any, bytes], langid_walk.Counts | None]


@pytest.fixture(scope="module")
def stock() -> Any:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@pytest.fixture(scope="module")
def cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def cached(cache_folder: Path) -> Identifier:
    return load_identifier(cache_folder)


@pytest.fixture(scope="module")
def source() -> types.ModuleType:
    """langid_walk.py itself, run as plain Python beside the compiled module."""
    path = Path(langid_walk.__file__).with_name("langid_walk.py")
    spec = importlib.util.spec_from_file_location("langid_walk_source", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (
        isinstance(module.walk, types.FunctionType) and not module.COMPILED
    )  # bytecode, not the extension's
    return module


@pytest.fixture(scope="module")
def source_walk(source: types.ModuleType) -> Walk:
    walk: Walk = source.walk
    return walk


def sentences() -> list[str]:
    files = sorted(corpus("lang-sentences").glob("*.txt"))
    assert len(files) == 8
    return [line for file in files for line in file.read_text(encoding="utf-8").splitlines() if line]


def article_samples() -> list[str]:
    """The news articles as ``detect_language`` samples them: title, summary and body, the first characters."""
    with corpus("news-text", "finescoop-2020.jsonl").open(encoding="utf-8") as lines:
        articles = [json.loads(line) for line in lines]
    assert len(articles) == 5000
    texts = ((a.get("title") or "", a.get("summary") or "", a.get("body") or "") for a in articles)
    return [" ".join(part for part in parts if part)[:SAMPLE_CHARS] for parts in texts]


def hostile_bytes() -> Iterator[bytes]:
    rng = random.Random(18)
    yield b""
    yield b"\x00"
    yield bytes(range(256)) * 40
    yield "\ud800\udfff lone surrogates \udc80".encode("utf-8", "surrogatepass")
    yield b"\xff\xfe\xc3(\xa0\xa1\xe2\x28\xa1\xf0\x90\x28\xbc"  # invalid UTF-8
    yield ("Ausfuhrgenehmigungen für die Türkei. " * 30_000).encode()  # about a megabyte
    for size in (1, 2, 3, 7, 100, 4096, 65_537):
        yield rng.randbytes(size)
    for _ in range(200):
        yield rng.randbytes(rng.randrange(1, 3000))


def in_order(counts: Mapping[int, int] | langid_walk.Counts | None) -> list[tuple[int, int]] | None:
    """The counts with their order, py3langid's (a dictionary) or the walk's (features and counts): py3langid
    sums the features' scores in it."""
    if counts is None:
        return None
    if isinstance(counts, Mapping):
        return list(counts.items())
    features, times = counts
    assert (
        isinstance(features, array)
        and isinstance(times, array)
        and features.typecode == times.typecode == "i"
    )
    return list(zip(features, times, strict=True))


def arrays(identifier: Identifier) -> tuple[Any, Any, Any, Any]:
    return identifier.tk_nextmove, identifier._bytebase, identifier._rowbase, identifier.tk_output


def library_counts(stock: Any, text: bytes) -> dict[int, int] | None:
    """py3langid's own loop on its own arrays (the cache file numbers the states otherwise)."""
    found: dict[int, int] | None = visit_counts(stock.tk_nextmove, stock._rowbase, stock.tk_output, text)
    return found


def test_the_walk_is_the_compiled_one_when_built() -> None:
    """setup.py compiles langid_walk (tests/test_match_compiled.py checks its whole COMPILED list the same way)."""
    assert langid_walk.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), langid_walk.__file__
    assert not isinstance(langid_walk.walk, types.FunctionType) and langid_walk.COMPILED


def test_every_corpus_sentence_and_article_gets_py3langids_counts_in_its_order(
    stock: Any, cached: Identifier, source_walk: Walk
) -> None:
    """On the cache file's automaton (moves of 16 bits, states numbered by byte) and on py3langid's own arrays
    (32 bits, its numbering): the counts of py3langid's loop on its own arrays."""
    texts = [cached._encode(text) for text in sentences() + article_samples()]
    assert len(texts) >= 13_000
    expected = [in_order(library_counts(stock, text)) for text in texts]
    library = (
        stock.tk_nextmove,
        langid_walk.NO_BYTEBASE,
        array("I", stock._rowbase),
        array("i", stock.tk_output),
    )
    assert langid_walk._format(arrays(cached)[0]) == "H" and langid_walk._format(library[0]) == "I"
    for walk in (langid_walk.walk, source_walk):
        for automaton in (arrays(cached), library):
            differ = [
                text for text, e in zip(texts, expected, strict=True) if in_order(walk(*automaton, text)) != e
            ]
            assert differ == [], (walk, automaton[0])


def test_hostile_bytes_get_py3langids_counts(stock: Any, cached: Identifier, source_walk: Walk) -> None:
    texts = list(hostile_bytes())
    texts.append(cached._encode("Ankara \ud83d says İHA\udfff"))  # surrogates kept by the library's encoder
    found = [library_counts(stock, text) for text in texts]
    assert found[0] is None and sum(count is not None for count in found) > 200
    for walk in (langid_walk.walk, source_walk):
        assert [in_order(walk(*arrays(cached), text)) for text in texts] == [in_order(f) for f in found]


@pytest.mark.parametrize("width", ["H", "I"])
def test_a_small_automaton_counts_as_written_by_hand(source_walk: Walk, width: str) -> None:
    """Two states: a byte 'a' leads to state 1, which outputs feature 7; any other byte to state 0 (none). As
    py3langid numbers them, then numbered by byte (``number_by_byte``), its moves in 16 and in 32 bits."""
    nextmove = array(width, [1 if byte == ord("a") else 0 for byte in range(256)] * 2)
    rowbase, output = array("I", [0, 256]), array("i", [-1, 7])
    moves, bytebase, rows, outputs = number_by_byte(
        np.frombuffer(nextmove, dtype=f"=u{nextmove.itemsize}"), np.array([0, 1]), np.array(output)
    )
    assert bytebase[ord("a")] + moves[ord("a")] == 1 + ord("a")  # after the start and one state a byte before
    assert outputs[bytebase[ord("a")] + moves[ord("a")]] == 7 and outputs[bytebase[ord("b")]] == -1
    numbered = (
        array(width, moves.astype(f"=u{nextmove.itemsize}").tobytes()),
        array("I", bytebase.tobytes()),
        array("I", (rows.astype(np.uint32) << 8).tobytes()),
        array("i", outputs.tobytes()),
    )
    for walk in (langid_walk.walk, source_walk):
        for automaton in ((nextmove, langid_walk.NO_BYTEBASE, rowbase, output), numbered):
            assert in_order(walk(*automaton, b"banana")) == [(7, 3)]
            assert walk(*automaton, b"xyz") is None
            assert walk(*automaton, b"") is None


def test_moves_take_16_bits_up_to_65535_and_32_beyond() -> None:
    assert move_type(0) is np.uint16 and move_type(65_535) is np.uint16
    assert move_type(65_536) is np.uint32 and move_type((1 << 32) - 1) is np.uint32


def test_a_byte_leading_to_more_states_than_16_bits_number_gets_32_bit_moves(source_walk: Walk) -> None:
    """65,537 states, byte 0 leading each to the next: 65,537 states under one byte, the last one numbered
    65,536 among them, so 32-bit moves; one fewer and they take 16. The walk counts the same."""
    for states, width in ((65_537, np.uint32), (65_536, np.uint16)):
        table = np.zeros((states, 256), dtype=np.uint32)
        table[:, 0] = (np.arange(states) + 1) % states  # byte 0 steps to the next state, others to the start
        output = np.where(np.arange(states) % 3 == 0, np.arange(states), -1).astype(np.int32)
        moves, bytebase, rows, outputs = number_by_byte(table.reshape(-1), np.arange(states), output)
        assert moves.dtype == width
        # the start, the states byte 0 leads to, the start again under each of the bytes 1 to 255
        assert len(outputs) == 1 + states + 255
        text = bytes(70_000) + b"\x01" + bytes(10)
        expected = visit_counts(
            array("I", table.tobytes()), array("I", range(0, states << 8, 256)), output, text
        )
        numbered = (moves, bytebase, (rows.astype(np.uint32) << 8), outputs)
        for walk in (langid_walk.walk, source_walk):
            assert in_order(walk(*(memoryview(a) for a in numbered), text)) == in_order(expected)


NONE = langid_walk.NO_BYTEBASE


@pytest.mark.parametrize(
    "nextmove, bytebase, rowbase, output",
    [
        (array("I", [5] * 256), NONE, array("I", [0]), array("i", [-1])),  # a next state that is not one
        # first states past the states
        (array("H", [0] * 256), array("I", [1] * 256), array("I", [0]), array("i", [-1])),
        (array("H", [0] * 256), array("I", [0] * 255), array("I", [0]), array("i", [-1])),  # 255 first states
        (array("I", [0] * 256), NONE, array("I", [1 << 20]), array("i", [-1])),  # a row start past the moves
        # a row whose move for "a" (97) is the first one past the moves
        (array("I", [0] * 256), NONE, array("I", [256 - 97]), array("i", [-1])),
        (array("I", [1] * 256), NONE, array("I", [0, 0]), array("i", [-1])),  # a state with no output
        (array("I"), NONE, array("I"), array("i")),  # no states at all
    ],
    ids=["next-state", "first-state", "bytebase-length", "row-start", "row-end", "no-output", "empty"],
)
def test_a_damaged_automaton_raises_instead_of_reading_outside_its_arrays(
    source_walk: Walk, nextmove: array[int], bytebase: array[int], rowbase: array[int], output: array[int]
) -> None:
    """The compiled module does not have Cython check each index (its first line): the walk checks what it
    reads from the automaton."""
    for walk in (langid_walk.walk, source_walk):
        with pytest.raises(IndexError):
            walk(nextmove, bytebase, rowbase, output, b"ab")
        if len(bytebase) == 256:
            assert walk(nextmove, bytebase, rowbase, output, b"") is None  # nothing read


def test_the_identifiers_arrays_are_those_the_walk_is_compiled_for(
    cached: Identifier, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Mapped from the cache file or read the library's way (no writable cache), the arrays reach the compiled
    walk; anything else would silently take py3langid's loop."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    fallback = load_identifier(blocker / "cache")
    assert isinstance(fallback, Identifier) and not isinstance(fallback.tk_nextmove, memoryview)
    for identifier, moves in ((cached, "H"), (fallback, "I")):  # moves of 16 bits in the cache file
        wanted = (moves, langid_walk.BYTEBASE_FORMAT, langid_walk.ROWBASE_FORMAT, langid_walk.OUTPUT_FORMAT)
        assert tuple(langid_walk._format(values) for values in arrays(identifier)) == wanted
    assert not any(fallback._bytebase) and any(cached._bytebase)
    text = cached._encode("Правительство одобрило экспорт оружия.")
    assert fallback._raw_score(text).tolist() == cached._raw_score(text).tolist()


def test_other_arrays_take_py3langids_own_loop(stock: Any) -> None:
    nextmove, rowbase, output = stock.tk_nextmove, stock._rowbase, stock.tk_output
    text = stock._encode("Le gouvernement a autorisé les exportations d'armes vers la Turquie.")
    expected = visit_counts(nextmove, rowbase, output, text)
    assert isinstance(rowbase, list) and isinstance(output, list)
    found = langid_walk.count_features(nextmove, langid_walk.NO_BYTEBASE, rowbase, output, text)
    assert in_order(found) == in_order(expected) and len(expected) > 20
    assert langid_walk.as_walk_array(list(output), "i") == array("i", output)
    assert langid_walk.as_walk_array([1 << 40], "I") == [
        1 << 40
    ]  # out of range: kept, for the library's loop


def stock_detect(stock: Any, *texts: str) -> str | None:
    """``detect_language`` as it was, on py3langid's own identifier and its own loop."""
    sample = " ".join(text for text in texts if text)[:SAMPLE_CHARS]
    if sum(char.isalpha() for char in sample) < MIN_LETTERS:
        return None
    language, probability = stock.classify(sample)
    return str(language) if probability >= MIN_CONFIDENCE else None


def test_detect_language_answers_as_before_on_every_corpus_text(stock: Any, cached: Identifier) -> None:
    texts = sentences() + article_samples()
    short = ["", "Wescam", "a b c d e f g h i j k", "a b c d e f g h i j k l", "1234 5678 !!!"]
    differ = [text for text in texts + short if detect_language(text) != stock_detect(stock, text)]
    assert differ == []
    for text in islice(texts, 0, None, 7):  # the confidence too, to the last bit
        assert cached.classify(text) == stock.classify(text)
    assert cached.rank(texts[0]) == stock.rank(texts[0])


def test_every_float16_is_widened_to_numpys_float32(source: types.ModuleType) -> None:
    """All 65,536 bit patterns (zeros, subnormals, normals, infinities, NaNs with their payloads), as a table of
    512 rows taken whole, then some rows in another order and twice."""
    half = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    table = half.reshape(-1, 128)
    for features in (np.arange(512, dtype=np.intp), np.array([511, 0, 7, 256, 7], dtype=np.intp)):
        expected = table[features].view(np.float16).astype(np.float32).view(np.uint32).reshape(-1).tolist()
        for module in (langid_walk, source):
            into = np.empty(len(features) * 128, dtype=np.uint32)
            module.float_rows(half.data, features.data, 128, into.data)
            assert into.tolist() == expected
    for module in (langid_walk, source):
        with pytest.raises(IndexError):  # a row beyond the table
            module.float_rows(
                half.data, np.array([3, 512], dtype=np.intp).data, 128, np.empty(256, np.uint32).data
            )
        with pytest.raises(ValueError):  # no room for the rows
            module.float_rows(
                half.data, np.array([3, 5], dtype=np.intp).data, 128, np.empty(255, np.uint32).data
            )


def test_the_scores_are_py3langids_to_the_last_bit(
    stock: Any, cached: Identifier, cache_folder: Path
) -> None:
    """The product on rows widened by ``float_rows``, from the walk's arrays of features and counts and from
    py3langid's dictionary of them, against py3langid's own ``_sparse_score`` on that dictionary, on every
    corpus sentence and every tenth article; and with the languages restricted (``set_languages``: the table's
    columns copied)."""
    texts = sentences() + article_samples()[::10]
    table = cached.nb_ptc
    assert table.dtype == np.float16
    for text in texts:
        found = langid_walk.count_features(*arrays(cached), cached._encode(text))
        assert found is not None
        visits = dict(zip(*found, strict=True))
        theirs = LanguageIdentifier._sparse_score(cached, visits, table)
        assert cached._score_counts(*found, table).tobytes() == theirs.tobytes(), text
        assert cached._sparse_score(visits, table).tobytes() == theirs.tobytes(), text
    # a table of another layout (its columns every other one of a wider table): py3langid's own product, on the
    # walk's counts as its dictionary
    strided = np.repeat(table[: max(found[0]) + 1], 2, axis=1)[:, ::2]
    assert not strided.flags.c_contiguous
    assert cached._score_counts(*found, strided).tobytes() == (
        LanguageIdentifier._sparse_score(cached, visits, strided).tobytes()
    )
    restricted = load_identifier(cache_folder)
    limited = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    for identifier in (restricted, limited):
        identifier.set_languages(["en", "fr", "de", "tr"])
    assert [restricted.classify(text) for text in texts[::20]] == [
        limited.classify(text) for text in texts[::20]
    ]
