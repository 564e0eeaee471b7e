"""The examples in the README and docs/ run through the real config loader and query parser, so the documentation
cannot drift from what the program accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.config.compiled import load_config
from monitor.errors import QueryError
from monitor.match import parse_query

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "docs" / "configuration.md", ROOT / "docs" / "query-language.md"]


def fenced(path: Path, language: str) -> list[tuple[int, str]]:
    """(line, text) of each fenced block of ``language`` in a Markdown file."""
    text = path.read_text(encoding="utf-8")
    return [
        (text[: m.start()].count("\n") + 1, m.group(1))
        for m in re.finditer(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    ]


def section(path: Path, heading: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


TOML_BLOCKS = [(path, line, block) for path in DOCS for line, block in fenced(path, "toml")]


def test_the_docs_have_config_examples() -> None:
    assert {path.name for path, _, _ in TOML_BLOCKS} >= {"README.md", "query-language.md"}
    assert len(TOML_BLOCKS) >= 4


@pytest.mark.parametrize(
    ("path", "line", "block"), TOML_BLOCKS, ids=[f"{p.name}:{n}" for p, n, _ in TOML_BLOCKS]
)
def test_each_config_example_loads_and_compiles(path: Path, line: int, block: str, tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(block, encoding="utf-8")
    env = {name: "example-secret" for name in re.findall(r"\$\{(\w+)\}", block)}
    load_config(config, env)  # raises ConfigError with path:line on any mistake


# [monitor] defaults in docs/configuration.md ----------------------------------------------------------------

MONITOR_ROW = re.compile(r"^\| `(\w+)` \| `([^`]+)` \|", re.MULTILINE)
DOCUMENTED_DEFAULTS = [
    (key, value)
    for key, value in MONITOR_ROW.findall(section(DOCS[1], "## `[monitor]`"))
    if "<" not in value  # the user agent's default names the installed version
]


def test_the_monitor_table_documents_its_defaults() -> None:
    assert len(DOCUMENTED_DEFAULTS) >= 15


@pytest.mark.parametrize(("key", "value"), DOCUMENTED_DEFAULTS, ids=[k for k, _ in DOCUMENTED_DEFAULTS])
def test_each_documented_monitor_default_is_the_real_default(key: str, value: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("[monitor]\n", encoding="utf-8")
    spelled = tmp_path / "monitor.toml"
    spelled.write_text(f"[monitor]\n{key} = {value}\n", encoding="utf-8")
    default = getattr(load_settings(empty, {}).monitor, key)
    assert getattr(load_settings(spelled, {}).monitor, key) == default


# queries --------------------------------------------------------------------------------------------------

QUERY_LANGUAGE = DOCS[2]


def example_queries() -> list[str]:
    """The queries of the "More examples" block (each followed by what it finds), the README's examples, and
    the left column of the query language table."""
    queries = []
    more = fenced(QUERY_LANGUAGE, "text")[0][1]
    queries += [re.split(r"\s{2,}", line.strip())[0] for line in more.splitlines() if line.strip()]
    readme = [block for _, block in fenced(DOCS[0], "text") if "NEAR" in block]
    queries += [line.strip() for block in readme for line in block.splitlines() if line.strip()]
    table = section(QUERY_LANGUAGE, "## The query language")
    for cell in re.findall(r"^\| (.+?) \|", table, re.MULTILINE):
        queries += [q for q in re.findall(r"`([^`]+)`", cell) if "…" not in q]
    return queries


QUERIES = example_queries()


def test_the_docs_have_query_examples() -> None:
    assert len(QUERIES) >= 20


@pytest.mark.parametrize("query", QUERIES)
def test_each_documented_query_parses(query: str) -> None:
    parse_query(query)


ERROR_LINE = re.compile(r"^query error at position (\d+): expected (.+?)\s{2,}(\S.*)$")


def documented_errors() -> list[tuple[str, int, str]]:
    """(query, position, expected) for each line of the Errors block; a long message wraps onto the next line."""
    block = fenced(QUERY_LANGUAGE, "text")[1][1]
    entries: list[tuple[str, int, str]] = []
    pending = ""
    for raw in block.splitlines():
        line = pending + " " + raw.strip() if pending else raw.strip()
        line = line.removeprefix("watchlist 'wescam': ")
        match = ERROR_LINE.match(line)
        if match:
            entries.append((match.group(3), int(match.group(1)), match.group(2)))
            pending = ""
        else:
            pending = line
    return entries


ERRORS = documented_errors()


def test_the_docs_show_query_errors() -> None:
    assert len(ERRORS) == 3


@pytest.mark.parametrize(("query", "position", "expected"), ERRORS, ids=[q for q, _, _ in ERRORS])
def test_each_documented_query_error_is_the_real_one(query: str, position: int, expected: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert caught.value.position + 1 == position
    assert " ".join(caught.value.expected.split()) == expected
