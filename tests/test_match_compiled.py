"""The matcher's modules compiled from their Python source (setup.py) and that source run as plain Python give the
same whole matches on the same articles and watchlists.

The compiled modules are imported here; a child process imports the .py files of the same modules instead (a
finder placed first on ``sys.meta_path``) and gives its matches back pickled, every detail built."""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import pickle
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import monitor.match
from monitor.match.fold import fold_words
from monitor.models import Match
from tests.test_match_output import load_articles

ROOT = Path(__file__).resolve().parent.parent


def compiled_modules() -> tuple[str, ...]:
    """The modules setup.py compiles (its COMPILED list)."""
    for node in ast.parse((ROOT / "setup.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "COMPILED":
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("setup.py names no COMPILED modules")


COMPILED = compiled_modules()

# Run in a child process: the same matching as ``matches`` below, on the modules' Python source.
CHILD = """
import importlib, importlib.abc, importlib.util, pickle, sys
from pathlib import Path

COMPILED = {compiled!r}
SOURCE = Path({source!r})


class SourceFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        package, _, module = name.rpartition(".")
        if package == "monitor.match" and module in COMPILED:
            return importlib.util.spec_from_file_location(name, SOURCE / (module + ".py"))
        return None


sys.meta_path.insert(0, SourceFinder())
from tests.test_match_compiled import {function} as run
import monitor.match

files = [importlib.import_module("monitor.match." + name).__file__ for name in COMPILED]
sys.stdout.buffer.write(pickle.dumps((files, run({seed}))))
"""


def matches(seed: int) -> list[list[Match]]:
    """Every match of the output test's articles against its generated watchlists, every detail built."""
    import random

    from monitor.match import compile_watchlists
    from monitor.match.aliases import resolve_aliases
    from tests.test_match_output import Draws, load_articles, watchlists

    articles = load_articles()
    specs, defined = watchlists(Draws(articles, random.Random(seed)), 120)
    matcher = compile_watchlists(specs, resolve_aliases(defined))
    return [[match.built() for match in matcher.match(article)] for article in articles]


def folded_matches(seed: int) -> list[tuple[list[Match], dict[str, str]]]:
    """``matches`` through ``match_folded``: each article's matches and its text fields as the matcher folded
    them, by name."""
    import random

    from monitor.match import compile_watchlists
    from monitor.match.aliases import resolve_aliases
    from tests.test_match_output import Draws, load_articles, watchlists

    articles = load_articles()
    specs, defined = watchlists(Draws(articles, random.Random(seed)), 120)
    matcher = compile_watchlists(specs, resolve_aliases(defined))
    found = []
    for article in articles:
        matched, folded = matcher.match_folded(article)
        found.append(([match.built() for match in matched], folded))
    return found


def pure_python(seed: int, function: str = "matches") -> tuple[list[str], Any]:
    child = CHILD.format(
        compiled=COMPILED, source=str(Path(monitor.match.__file__).parent), seed=seed, function=function
    )
    done = subprocess.run(
        [sys.executable, "-c", child], cwd=ROOT, capture_output=True, check=True, timeout=300
    )
    files, found = pickle.loads(done.stdout)
    return files, found


def test_the_hot_modules_are_compiled() -> None:
    """setup.py builds them (``make install`` does, through the package's build); without them this fails."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for name in COMPILED:
        module = importlib.import_module(f"monitor.match.{name}")
        assert module.__file__ is not None and module.__file__.endswith(suffixes), module.__file__


def sources(name: str) -> list[Path]:
    """A compiled module's source, its .pxd file if it has one, and the .pxd files that one cimports."""
    folder = Path(monitor.match.__file__).parent
    found = [folder / f"{name}.py"]
    declared = folder / f"{name}.pxd"
    if declared.exists():
        found.append(declared)
        cimported = re.findall(r"^from monitor\.match\.(\w+) cimport", declared.read_text(), re.MULTILINE)
        found += [folder / f"{other}.pxd" for other in cimported]
    return found


def test_the_compiled_modules_are_built_from_their_current_source() -> None:
    """An edit of a compiled module's source, or of its static types (its .pxd file and those it cimports),
    takes effect once it is built again (``make install`` does)."""
    for name in COMPILED:
        built = Path(importlib.import_module(f"monitor.match.{name}").__file__ or "")
        for source in sources(name):
            assert built.stat().st_mtime >= source.stat().st_mtime, f"{source} is newer than {built.name}"


def test_the_extension_types_declared_beside_the_source_are_compiled_as_such() -> None:
    """The classes a .pxd file declares are extension types in the compiled module (no instance dictionary),
    plain classes in the source: the declarations are read by the build."""
    from monitor.match.clauses import (
        CompiledAnd,
        CompiledFeed,
        CompiledLang,
        CompiledNear,
        CompiledNot,
        CompiledOr,
        CompiledPhrase,
    )
    from monitor.match.engine import CompiledWatchlist, Matcher
    from monitor.match.fold import FoldedField
    from monitor.match.scan import ArticleScan, Lexicon

    clauses = (CompiledPhrase, CompiledNear, CompiledAnd, CompiledOr, CompiledNot, CompiledFeed, CompiledLang)
    for kind in (*clauses, ArticleScan, Lexicon, CompiledWatchlist, Matcher, FoldedField):
        assert "__dict__" not in dir(kind), kind


def test_every_clause_type_says_whether_it_holds_and_the_base_says_what_is_missing() -> None:
    """The base clause only declares evaluate (for the compiled types' shared table of methods): each clause
    type defines its own, and one that did not would say so by name rather than answer."""
    from monitor.match.clauses import Clause

    kinds = Clause.__subclasses__()
    assert len(kinds) == 7
    for kind in kinds:
        assert "evaluate" in kind.__dict__, kind

    class Unfinished(Clause):
        pass

    with pytest.raises(NotImplementedError, match="Unfinished does not say whether it holds"):
        Unfinished().evaluate(None)  # type: ignore[arg-type]


def test_a_snippet_made_for_speed_is_the_snippet_its_fields_make() -> None:
    """The matcher makes snippets without the dataclass's __init__: the same fields, equal, read-only, and
    nothing left unset if a field were added to Snippet."""
    import dataclasses

    from monitor.match.snippets import _snippet
    from monitor.models import Snippet

    assert [field.name for field in dataclasses.fields(Snippet)] == ["field", "text", "marks"]
    made = _snippet("body", "Wescam MX-15", ((0, 6),))
    assert made == Snippet("body", "Wescam MX-15", ((0, 6),))
    assert made.to_dict() == {"field": "body", "text": "Wescam MX-15", "marks": [[0, 6]]}
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.text = "other"  # type: ignore[misc]


def test_spans_are_taken_as_they_come_only_when_each_starts_after_the_last() -> None:
    from monitor.match.clauses import _next_space, _rising

    assert _rising([(1, 5), (7, 9)])
    assert _rising([])
    assert not _rising([(1, 5), (1, 7)])  # the same start twice: sorted and deduplicated instead
    assert not _rising([(7, 9), (1, 5)])
    assert _next_space(" wescam mx ", 1) == 7
    assert _next_space(" wescam mx ", 7) == 7


def test_a_matchs_evidence_cannot_be_changed_once_made() -> None:
    """Evidence was a frozen dataclass: compiled, its fields are read-only, as a stored hit's evidence must be."""
    from monitor.match.snippets import Evidence

    evidence = Evidence("Wescam", "title", [(0, 6)])
    for name, value in (("label", "other"), ("field", "text"), ("occurrences", [])):
        with pytest.raises(AttributeError):
            setattr(evidence, name, value)
    assert evidence == Evidence("Wescam", "title", [(0, 6)])


@pytest.mark.parametrize("seed", [6, 7])
def test_compiled_and_python_source_give_the_same_matches(seed: int) -> None:
    files, from_source = pure_python(seed)
    assert all(file.endswith(".py") for file in files), files
    compiled = matches(seed)
    assert sum(map(len, compiled)) > 100
    assert any(line for article in compiled for m in article for line in m.found_as if "stem" in line)
    assert compiled == from_source


def test_compiled_and_python_source_give_the_same_matches_and_folded_fields() -> None:
    """``match_folded`` gives the matches ``match`` gives and the fields as folded, the same in both builds."""
    files, from_source = pure_python(6, "folded_matches")
    assert all(file.endswith(".py") for file in files), files
    compiled = folded_matches(6)
    assert [found for found, _ in compiled] == matches(6)
    assert sum(len(found) for found, _ in compiled) > 100
    for article, (_, folded) in zip(load_articles(), compiled, strict=True):
        assert folded == {
            name: " " + " ".join(fold_words(article[name])) + " " for name in ("title", "summary", "body")
        }
    assert compiled == from_source
