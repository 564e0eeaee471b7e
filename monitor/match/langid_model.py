"""py3langid's model, unpacked once into a file of raw arrays and memory-mapped at each start.

The model ships as 4.5 MB of xz holding a 68 MB npz: unpacking it took about 0.4 s of CPU at every start of a
process that detects a language, and 80 MB of private memory in each. Unpacked once into a cache file, it opens
in a few milliseconds, and only the pages a detection touches are read in, shared by every process that maps the
file (the daemon's fork server and its workers).

The file holds the scores py3langid's own reader returns, in the same types, and its automaton renumbered so
that each move takes 16 bits instead of 32 (``number_by_byte``: 19.6 MB instead of 39; 200 news articles read
20.8 MB of the file instead of 27.5); they are handed to py3langid's own ``LanguageIdentifier``, whose features
are counted by the compiled walk of ``langid_walk`` (the same counts as py3langid's loop, several times faster):
the scoring is the library's code on the library's numbers (tests/test_language_model.py compares the two on
every corpus sentence).

The file is named after the model it was unpacked from (its path, size and modification time), so that
installations side by side never take each other's file, and is checked at each opening against that model and
against its own header (format, byte order, layout, length). A missing, stale or damaged file is rebuilt, written
to a temporary file and renamed into place, so that no process ever maps a half-written one. Where no cache can be
written (a read-only home), the model is read the library's way, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mmap
import os
import sys
import time
from array import array
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from py3langid.langid import MODEL_DIR, MODEL_FILE, RAW_FLOOR, LanguageIdentifier

from .langid_walk import (
    BYTEBASE_FORMAT,
    COMPILED,
    NO_BYTEBASE,
    OUTPUT_FORMAT,
    ROWBASE_FORMAT,
    as_walk_array,
    count_features,
    float_rows,
)

log = logging.getLogger(__name__)

# 2: the arrays of 1, written so that the page cache holds them in small pages (``write_cache``);
# 3: the automaton's states numbered by the byte that leads to them, its moves in 16 bits (``number_by_byte``)
FORMAT = 3
MAGIC = b"monitor langid model\n"
HEADER_SIZE = 1 << 16  # the classes and layout, as JSON, padded; the arrays start page-aligned after it
PAGE = mmap.PAGESIZE
# The memoryview format of each unsigned or signed integer width py3langid's DFA arrays may come in.
_VIEW_FORMAT: dict[str, Literal["H", "I", "Q", "i"]] = {"u2": "H", "u4": "I", "u8": "Q", "i4": "i"}
_NATIVE = "<" if sys.byteorder == "little" else ">"
_MAPPED: list[mmap.mmap] = []  # the files this process maps, for ``release_pages``


class Identifier(LanguageIdentifier):  # type: ignore[misc]  # py3langid has no type hints
    """py3langid's identifier, its features counted by ``langid_walk.count_features`` instead of py3langid's
    ``visit_counts`` (the same counts) and the rows of their scores widened by ``langid_walk.float_rows`` (the
    same numbers); the rest is the library's own code."""

    _rowbase: Sequence[int]
    _bytebase: Sequence[int]
    tk_output: Sequence[int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bytebase = NO_BYTEBASE  # py3langid's numbering of the states; the cache file's has its own
        # py3langid's reader gives the row starts and outputs as lists: as arrays the compiled walk reads them.
        self._rowbase = as_walk_array(self._rowbase, ROWBASE_FORMAT)
        self.tk_output = as_walk_array(self.tk_output, OUTPUT_FORMAT)

    def _raw_score(self, text: bytes) -> np.ndarray[Any, Any]:
        """py3langid's ``_raw_score``, but for where the counts come from and what they come as."""
        found = count_features(self.tk_nextmove, self._bytebase, self._rowbase, self.tk_output, text)
        if found is not None:
            return self._score_counts(*found, self.nb_ptc)
        return np.full(len(self.nb_classes), 0.0 if self._norm_probs else RAW_FLOOR, dtype=np.float32)

    def _sparse_score(self, visits: Mapping[int, int], table: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """py3langid's ``_sparse_score``, on ``_score_counts``."""
        return self._score_counts(array("i", visits.keys()), array("i", visits.values()), table)

    def _score_counts(
        self, features: array[int], counts: array[int], table: np.ndarray[Any, Any]
    ) -> np.ndarray[Any, Any]:
        """py3langid's ``_sparse_score``, ``log1p(counts) @ table[features] + nb_pc``, on the features in the
        order first reached and their counts as the walk gives them (two arrays of int32, where py3langid reads
        a dictionary's keys and values), the float16 rows of the table widened to float32 by the compiled
        ``float_rows`` instead of by numpy within the product: the same float32 numbers in the same product, so
        the same scores to the last bit (tests/test_langid_walk.py)."""
        if not (COMPILED and table.dtype == np.float16 and table.ndim == 2 and table.flags.c_contiguous):
            scores: np.ndarray[Any, Any] = super()._sparse_score(
                dict(zip(features, counts, strict=True)), table
            )
            return scores
        rows_of = np.frombuffer(features, dtype=np.int32).astype(np.intp)
        weights = np.frombuffer(counts, dtype=np.int32).astype(np.float32)  # rounded once, as numpy does ints
        rows = np.empty((len(features), table.shape[1]), dtype=np.float32)
        float_rows(
            table.reshape(-1).view(np.uint16).data,
            rows_of.data,
            table.shape[1],
            rows.reshape(-1).view(np.uint32).data,
        )
        product: np.ndarray[Any, Any] = np.log1p(weights) @ rows + self.nb_pc
        return product


def move_type(largest: int) -> type[np.unsignedinteger[Any]]:
    """The narrowest unsigned type ``walk`` reads moves in that holds ``largest``."""
    return np.uint16 if largest <= 0xFFFF else np.uint32


def number_by_byte(
    nextmove: np.ndarray[Any, Any], row: np.ndarray[Any, Any], output: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """py3langid's automaton (``nextmove``: the next state for each row and byte; ``row`` and ``output``: each
    state's row and feature) with its states renumbered so that a move fits in 16 bits: (moves, first state of
    each byte, row of each state, feature of each state).

    The model has 104,583 states, more than 16 bits number, but a byte leads to at most 11,012 of them (from
    any row): the start state is numbered 0, then the states each byte leads to are numbered together, byte
    after byte, so that a move is the place of its state among its byte's (``bytebase[byte] + move`` is the
    state). A state that several bytes lead to (61 here) gets a number under each, the same row and feature
    under every one: it moves and counts the same whichever it is reached as, so the walk counts exactly what
    py3langid's does (tests/test_langid_walk.py). The rows keep their order, and each move is the same two bytes
    wherever its state is numbered."""
    table = nextmove.reshape(-1, 256)
    targets = [np.unique(table[:, byte]) for byte in range(256)]
    sizes = np.array([len(states) for states in targets], dtype=np.int64)
    bytebase = (1 + np.concatenate(([0], np.cumsum(sizes)[:-1]))).astype(np.uint32)
    moves = np.empty(table.shape, dtype=move_type(int(sizes.max(initial=1)) - 1))
    for byte, states in enumerate(targets):
        moves[:, byte] = np.searchsorted(states, table[:, byte])
    numbered = np.concatenate([np.zeros(1, dtype=table.dtype), *targets])  # py3langid's state of each new one
    return moves.reshape(-1), bytebase, row[numbered], output[numbered]


def source_model() -> Path:
    """py3langid's packed model, the one ``LanguageIdentifier.from_model_file(MODEL_FILE)`` reads."""
    return Path(MODEL_DIR) / str(MODEL_FILE)


def cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    """``$MONITOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/monitor``, else ``~/.cache/monitor``."""
    if env.get("MONITOR_CACHE_DIR"):
        return Path(env["MONITOR_CACHE_DIR"])
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "monitor"
    return Path.home() / ".cache" / "monitor"


def _stamp(source: Path) -> dict[str, Any]:
    """What identifies the packed model: a new version of the library, or the file replaced, changes it."""
    stat = source.stat()
    return {"path": str(source.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def cache_file(source: Path, folder: Path) -> Path:
    """The cache file of ``source`` in ``folder``."""
    key = json.dumps([FORMAT, _stamp(source)], sort_keys=True).encode()
    return folder / f"langid-{hashlib.sha256(key).hexdigest()[:16]}.bin"


def load_identifier(folder: Path | None = None, source: Path | None = None) -> Identifier:
    """py3langid's identifier (probabilities normalised) on the model's arrays mapped from the cache file in
    ``folder`` (default: ``cache_dir()``), unpacking ``source`` (default: py3langid's own model) there first when
    the file is missing, stale or damaged."""
    source = source or source_model()
    folder = folder or cache_dir()
    try:
        path = cache_file(source, folder)
        try:
            return open_cached(path, source)
        except (OSError, ValueError) as problem:
            if path.exists():
                log.warning(
                    "language model cache %s is unusable (%s): unpacking the model again", path, problem
                )
            write_cache(source, path)
            return open_cached(path, source)
    except OSError as error:
        log.warning(
            "cannot keep the language model unpacked in %s (%s): reading it the slow way at each start "
            "(set MONITOR_CACHE_DIR to a writable folder)",
            folder,
            error.strerror or error,
        )
        identifier: Identifier = Identifier.from_model_file(source, norm_probs=True)
        return identifier


def write_cache(source: Path, path: Path) -> None:
    """Unpack ``source`` with py3langid's own reader and write its arrays to ``path``, atomically; then remove
    the cache files of models that are gone or changed."""
    import tempfile  # only to unpack: opening the cache file loads neither this nor lzma

    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(source)
    moves, bytebase, rows, outputs = number_by_byte(
        np.frombuffer(nextmove, dtype=f"=u{nextmove.itemsize}"),
        np.frombuffer(row, dtype=f"=u{row.itemsize}"),
        np.asarray(output, dtype=np.int32),
    )
    wide = np.uint32 if int(rows.max(initial=0)) < 1 << 24 else np.uint64
    arrays = {
        "ptc": np.asarray(ptc),
        "pc": np.asarray(pc),
        "nextmove": moves,
        "bytebase": bytebase,
        "row": rows,
        # py3langid's identifier starts each state's row at row << 8; kept here so that no process builds
        # (and no forked worker copies, by counting references to it) a list of 100,000 numbers.
        "rowbase": np.left_shift(rows.astype(wide), 8),
        "output": outputs,
    }
    layout: dict[str, list[Any]] = {}
    offset = HEADER_SIZE
    for name, values in arrays.items():
        layout[name] = [offset, values.dtype.str, list(values.shape)]
        offset += -(-values.nbytes // PAGE) * PAGE
    header = {
        "format": FORMAT,
        "byteorder": sys.byteorder,
        "source": _stamp(source),
        "size": offset,
        "classes": [str(c) for c in classes],
        "layout": layout,
    }
    encoded = MAGIC + json.dumps(header).encode()
    if len(encoded) > HEADER_SIZE:
        raise ValueError(f"language model header of {len(encoded)} bytes does not fit in {HEADER_SIZE}")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".langid-", suffix=".tmp")
    try:
        os.fchmod(handle, 0o644)  # the library's model, nothing private: readable as the package's own file
        with os.fdopen(handle, "wb") as out:
            out.write(encoded)
            for name, values in arrays.items():
                out.seek(layout[name][0])
                out.write(np.ascontiguousarray(values).tobytes())
            out.truncate(offset)
            out.flush()
            os.fsync(out.fileno())
            # Out of the page cache, where writing left it in large folios (2 MB on ext4): mapped with
            # MADV_RANDOM (``open_cached``), it comes back a 4 KB page at a time, as detections read it.
            os.posix_fadvise(out.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    log.info("language model unpacked to %s", path)
    remove_stale(path.parent, keep=path)


def read_header(path: Path) -> dict[str, Any]:
    """The header of a cache file; ValueError when it is not one of this format."""
    with path.open("rb") as file:
        os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_RANDOM)  # the header alone, no read-ahead
        start = file.read(HEADER_SIZE)
    if not start.startswith(MAGIC):
        raise ValueError("not a language model cache file")
    try:
        header: dict[str, Any] = json.loads(start[len(MAGIC) :].rstrip(b"\0"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"damaged header: {error}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError("another format")
    return header


def open_cached(path: Path, source: Path) -> Identifier:
    """The identifier on the arrays mapped from ``path``; OSError or ValueError when the file is missing, made
    from another model, or damaged."""
    header = read_header(path)
    if header.get("byteorder") != sys.byteorder or header.get("source") != _stamp(source):
        raise ValueError("made from another model")
    with path.open("rb") as file:
        if os.fstat(file.fileno()).st_size != header["size"]:
            raise ValueError(f"{os.fstat(file.fileno()).st_size} bytes, expected {header['size']}")
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    if hasattr(mmap, "MADV_RANDOM"):
        # No read-ahead: a page a detection reads comes in alone, not in a folio of up to 2 MB that the
        # process then counts whole. A short text read 38 MB of the model before, 0.5 MB now; 1,000 news
        # bodies 62 MB before, 31 MB now (tests/test_language_model.py measures it).
        mapped.madvise(mmap.MADV_RANDOM)
    try:
        arrays = _arrays(mapped, header)
        identifier = Identifier(
            arrays["ptc"],
            np.array(arrays["pc"]),
            list(header["classes"]),
            _view(mapped, header, "nextmove"),
            _view(mapped, header, "output"),
            norm_probs=True,
            tk_row=(),  # set below, with the row starts it would otherwise compute into a list
        )
        identifier.tk_row = _view(mapped, header, "row")
        identifier._rowbase = as_walk_array(_view(mapped, header, "rowbase"), ROWBASE_FORMAT)
        identifier._bytebase = as_walk_array(_view(mapped, header, "bytebase"), BYTEBASE_FORMAT)
    except (KeyError, TypeError, IndexError) as error:
        raise ValueError(f"damaged layout: {error!r}") from None
    _MAPPED.append(mapped)
    return identifier


def release_pages() -> int:
    """Unmap the pages of the model files that this process has touched (they stay in the page cache, and the
    next detection maps those it needs again, at a minor fault a page): an idle worker otherwise counts the
    pages of the model its detections have touched. How many files were released."""
    if not hasattr(mmap, "MADV_DONTNEED"):
        return 0
    for mapped in _MAPPED:
        mapped.madvise(mmap.MADV_DONTNEED)
    return len(_MAPPED)


def _arrays(mapped: mmap.mmap, header: dict[str, Any]) -> dict[str, np.ndarray[Any, Any]]:
    arrays = {}
    for name in ("ptc", "pc"):
        offset, dtype, shape = header["layout"][name]
        count = int(np.prod(shape, dtype=np.int64))
        if offset < HEADER_SIZE or offset + count * np.dtype(dtype).itemsize > header["size"]:
            raise ValueError(f"array {name} lies outside the file")
        arrays[name] = np.frombuffer(mapped, dtype=dtype, count=count, offset=offset).reshape(shape)
    classes = len(header["classes"])
    if arrays["ptc"].ndim != 2 or arrays["ptc"].shape[1] != classes or arrays["pc"].shape != (classes,):
        raise ValueError("the arrays do not fit the classes")
    return arrays


def _view(mapped: mmap.mmap, header: dict[str, Any], name: str) -> memoryview[int]:
    """A one-dimensional integer array of the file as a memoryview: indexing it gives plain ints, as fast as
    the ``array.array`` py3langid builds, without copying it."""
    offset, dtype, shape = header["layout"][name]
    if len(shape) != 1 or dtype[0] != _NATIVE or dtype[1:] not in _VIEW_FORMAT:
        raise ValueError(f"array {name} of type {dtype} {shape}")
    end = offset + shape[0] * np.dtype(dtype).itemsize
    if offset < HEADER_SIZE or end > header["size"]:
        raise ValueError(f"array {name} lies outside the file")
    return memoryview(mapped)[offset:end].cast(_VIEW_FORMAT[dtype[1:]])


def remove_stale(folder: Path, keep: Path, now: float | None = None) -> None:
    """Remove the cache files of models that no longer exist or have changed, and temporary files a day old
    (left by a process stopped while it wrote one). A process that still maps a removed file keeps its pages
    until it exits."""
    now = time.time() if now is None else now
    for temporary in folder.glob(".langid-*.tmp"):
        with contextlib.suppress(OSError):
            if temporary.stat().st_mtime < now - 86400:
                temporary.unlink()
    for other in folder.glob("langid-*.bin"):
        if other == keep:
            continue
        try:
            source = read_header(other).get("source") or {}
            current = _stamp(Path(source["path"]))
        except (OSError, ValueError, KeyError, TypeError):
            current = None
        if current is None or current != source:
            other.unlink(missing_ok=True)
