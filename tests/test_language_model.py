"""The language model unpacked once into a memory-mapped cache file: the same answers as py3langid's own loading,
to the last bit of the confidence, and a cache file that is rebuilt when missing, stale or damaged."""

from __future__ import annotations

import json
import logging
import mmap
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from monitor.match import langid_model
from monitor.match.langid_model import cache_dir, cache_file, load_identifier, read_header, source_model
from monitor.match.language import detect_language
from tests.corpus import ROOT

SENTENCES = ROOT / "lang-sentences"


@pytest.fixture(scope="module")
def stock() -> Any:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_identifier(tmp_path_factory.mktemp("cache"))


def corpus_lines() -> list[str]:
    files = sorted(SENTENCES.glob("*.txt"))
    assert len(files) == 8, f"the shared corpus's sentences, looked for in {SENTENCES}"
    return [line for file in files for line in file.read_text(encoding="utf-8").splitlines() if line]


def test_every_corpus_sentence_gets_the_stock_models_language_and_confidence(stock: Any, cached: Any) -> None:
    lines = corpus_lines()
    assert len(lines) >= 8000  # 1,000 a language (a few hold a Unicode line separator)
    differ = [line for line in lines if cached.classify(line) != stock.classify(line)]
    assert differ == []
    # the cached model is not a copy in memory: its big arrays are the file's pages
    assert isinstance(cached.nb_ptc.base, mmap.mmap | memoryview) or not cached.nb_ptc.flags.owndata
    assert isinstance(cached.tk_nextmove, memoryview) and isinstance(cached.tk_output, memoryview)


CLASSIFY_ALL = """
import json, os, sys
from pathlib import Path
lines = [l for f in sorted(Path(sys.argv[2]).glob("*.txt")) for l in f.read_text("utf-8").splitlines() if l]
if sys.argv[1] == "stock":
    from py3langid.langid import MODEL_FILE, LanguageIdentifier
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
else:
    from monitor.match.language import _identifier
    identifier = _identifier()
print(json.dumps({"threads": os.environ.get("OPENBLAS_NUM_THREADS"), "answers": [identifier.classify(l) for l in lines]}))
"""


def test_monitors_detection_process_answers_as_the_stock_library_does(tmp_path: Path) -> None:
    """Whole processes, as the daemon and the commands run: monitor's (cached model, numpy's BLAS on one thread)
    and the library's own (its model unpacked, BLAS threads as numpy starts them)."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    env["MONITOR_CACHE_DIR"] = str(tmp_path)
    answers = {}
    for way in ("stock", "monitor"):
        done = subprocess.run(
            [sys.executable, "-c", CLASSIFY_ALL, way, str(SENTENCES)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        answers[way] = json.loads(done.stdout)
    assert answers["stock"]["threads"] is None and answers["monitor"]["threads"] == "1"
    assert len(answers["stock"]["answers"]) >= 8000
    assert answers["monitor"]["answers"] == answers["stock"]["answers"]


def test_short_mixed_and_empty_texts_get_the_stock_models_answer(stock: Any, cached: Any) -> None:
    texts = [
        "",
        "a",
        "Wescam",
        "1234 5678",
        "TB2 İHA Bayraktar",
        "Ausfuhrgenehmigungen für die Türkei",
        "日本語の文章",
    ]
    for text in texts:
        assert cached.classify(text) == stock.classify(text), text
        assert cached.rank(text) == stock.rank(text), text
    assert cached.nb_classes == stock.nb_classes


def test_detect_language_answers_from_the_cached_model() -> None:
    assert detect_language("Le gouvernement a autorisé les exportations d'armes vers la Turquie.") == "fr"
    assert detect_language("Die Bundesregierung hat die Ausfuhr genehmigt.") == "de"


def test_the_cache_file_is_written_once_and_then_only_opened(tmp_path: Path, stock: Any) -> None:
    first = load_identifier(tmp_path)
    path = cache_file(source_model(), tmp_path)
    written = path.stat()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    second = load_identifier(tmp_path)
    assert path.stat().st_ino == written.st_ino and path.stat().st_mtime_ns == written.st_mtime_ns
    assert second.classify("Parliament debated export permits.") == first.classify(
        "Parliament debated export permits."
    )
    header = read_header(path)
    assert header["source"]["size"] == source_model().stat().st_size
    assert header["size"] == written.st_size


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b""),
        lambda path: path.write_bytes(path.read_bytes()[: 1 << 20]),  # truncated
        lambda path: path.write_bytes(b"not a model\n" + path.read_bytes()[12:]),  # another file
        lambda path: path.write_bytes(path.read_bytes()[:30] + b"\xff{" + path.read_bytes()[32:]),  # header
    ],
    ids=["empty", "truncated", "not-a-cache-file", "damaged-header"],
)
def test_a_damaged_cache_file_is_rebuilt(
    tmp_path: Path, stock: Any, damage: Any, caplog: pytest.LogCaptureFixture
) -> None:
    load_identifier(tmp_path)
    path = cache_file(source_model(), tmp_path)
    damage(path)
    with caplog.at_level(logging.WARNING, logger="monitor.match.langid_model"):
        rebuilt = load_identifier(tmp_path)
    assert "is unusable" in caplog.text
    assert read_header(path)["size"] == path.stat().st_size
    text = "El Gobierno aprobó licencias de exportación de armas."
    assert rebuilt.classify(text) == stock.classify(text)


def test_a_changed_model_gets_a_new_file_and_the_old_one_is_removed(tmp_path: Path, stock: Any) -> None:
    source = tmp_path / "model.npz.xz"
    shutil.copyfile(source_model(), source)
    folder = tmp_path / "cache"
    load_identifier(folder, source)
    old = cache_file(source, folder)
    assert old.exists()
    later = time.time() + 60
    os.utime(source, (later, later))  # the library reinstalled: same path, another file
    new = cache_file(source, folder)
    assert new != old
    identifier = load_identifier(folder, source)
    assert new.exists() and not old.exists()
    assert identifier.classify("Hükümet ihracat izni verdi.") == stock.classify("Hükümet ihracat izni verdi.")


def test_cache_files_of_other_installations_are_kept_while_their_model_exists(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    other_source = tmp_path / "other" / "model.npz.xz"
    other_source.parent.mkdir()
    shutil.copyfile(source_model(), other_source)
    load_identifier(folder, other_source)
    other = cache_file(other_source, folder)
    load_identifier(folder)  # this installation's model: another file
    assert other.exists() and cache_file(source_model(), folder).exists()
    other_source.unlink()  # that installation is gone: its file goes at the next unpacking
    cache_file(source_model(), folder).unlink()
    load_identifier(folder)
    assert not other.exists()


def test_only_day_old_temporary_files_are_removed(tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    fresh, stale = tmp_path / ".langid-a.tmp", tmp_path / ".langid-b.tmp"
    fresh.write_bytes(b"being written")
    stale.write_bytes(b"left by a stopped process")
    day_old = time.time() - 86400 - 60
    os.utime(stale, (day_old, day_old))
    langid_model.remove_stale(tmp_path, keep=tmp_path / "langid-x.bin")
    assert fresh.exists() and not stale.exists()


def test_without_a_writable_cache_the_model_is_read_the_stock_way(
    tmp_path: Path, stock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="monitor.match.langid_model"):
        identifier = load_identifier(blocker / "cache")
    assert "cannot keep the language model unpacked" in caplog.text and "MONITOR_CACHE_DIR" in caplog.text
    assert not isinstance(identifier.tk_nextmove, memoryview)  # the library's own arrays
    text = "Правительство одобрило экспорт оружия."
    assert identifier.classify(text) == stock.classify(text)


def test_the_cache_folder_follows_the_environment() -> None:
    assert cache_dir({"MONITOR_CACHE_DIR": "/srv/cache", "XDG_CACHE_HOME": "/x"}) == Path("/srv/cache")
    assert cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/monitor")
    assert cache_dir({}) == Path.home() / ".cache" / "monitor"


def mapped_kb(path: Path) -> int:
    """The resident KB of this process's mappings of ``path``."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and not head[0].endswith(":"):
            inside = line.rstrip().endswith(str(path))
        elif inside and head[0] == "Rss:":
            total += int(head[1])
    return total


def test_released_model_pages_leave_the_process_and_come_back_on_use(cached: Any) -> None:
    lines = corpus_lines()[::40]
    before = [cached.classify(line) for line in lines]
    model_files = {
        line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines() if "langid-" in line
    }
    touched = sum(mapped_kb(Path(name)) for name in model_files)
    assert touched > 10_000  # KB of the model read in by the detections
    assert langid_model.release_pages() >= 1
    assert sum(mapped_kb(Path(name)) for name in model_files) < touched / 10
    assert [cached.classify(line) for line in lines] == before


def test_a_detection_reads_in_the_pages_it_uses_not_the_folios_around_them(tmp_path: Path) -> None:
    """The file is written out of the page cache and mapped without read-ahead: a short text brings in a few
    4 KB pages of the 68 MB model, where read-ahead and the large folios of a freshly written file made it
    tens of megabytes."""
    identifier = load_identifier(tmp_path)
    path = cache_file(source_model(), tmp_path)
    text = "Parliament debated the export permits on Tuesday."
    expected = identifier.classify(text)
    langid_model.release_pages()
    assert mapped_kb(path) == 0
    assert identifier.classify(text) == expected
    assert 0 < mapped_kb(path) < 2048


def test_a_cache_file_of_an_earlier_format_is_rebuilt_and_removed(
    tmp_path: Path, stock: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A file written by an earlier version (format 2: py3langid's own numbering, 32-bit moves) is neither
    opened, whether it has its own name or this format's, nor kept."""
    with monkeypatch.context() as earlier:
        earlier.setattr(langid_model, "FORMAT", 2)
        load_identifier(tmp_path)
        old = cache_file(source_model(), tmp_path)
        assert read_header(old)["format"] == 2
    current = cache_file(source_model(), tmp_path)
    assert current != old
    shutil.copyfile(old, current)  # an earlier file under this format's name: unusable, rebuilt
    with caplog.at_level(logging.WARNING, logger="monitor.match.langid_model"):
        identifier = load_identifier(tmp_path)
    assert "another format" in caplog.text
    assert read_header(current)["format"] == langid_model.FORMAT == 3
    assert not old.exists()  # removed when the current one was written
    assert isinstance(identifier.tk_nextmove, memoryview) and identifier.tk_nextmove.format == "H"
    text = "Hükümet ihracat izni verdi."
    assert identifier.classify(text) == stock.classify(text)
