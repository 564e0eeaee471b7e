"""Fuzzing the two parsers of user input: whatever the config file or a query says, the answer is a result
or our own error (ConfigError, QueryError: exit 2 with a message), never another exception (a traceback)."""

from __future__ import annotations

import contextlib
import json
import math
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor import redact
from monitor.config.settings import FeedSettings, MonitorSettings, NotifierSettings, WatchlistSettings
from monitor.errors import ConfigError, QueryError
from monitor.match import compile_watchlists
from monitor.match.query import parse_query
from monitor.models import WatchlistSpec
from monitor.runtime import load_config
from tests.factory import run_cli

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FOLDER = Path(tempfile.mkdtemp(prefix="monitor-fuzz-"))

VALID = """\
[monitor]
database = "sqlite:///fuzz.db"

[[feed]]
name = "gazette"
url = "https://news.example/feed.xml"

[[watchlist]]
name = "arms"
terms = ["Wescam", "export permit*"]
notify = ["desk"]

[[notifier]]
name = "desk"
urls = ["json://127.0.0.1:9/hook"]
"""
SECTIONS = {
    "monitor": MonitorSettings,
    "feed": FeedSettings,
    "watchlist": WatchlistSettings,
    "notifier": NotifierSettings,
}


def outcome_of_config(text: str, env: dict[str, str] | None = None) -> None:
    path = FOLDER / "monitor.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(path, env or {})
    except ConfigError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)
    finally:
        redact.forget_all()


# --- TOML values of every kind --------------------------------------------------------------------------------


def toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def toml_float(number: float) -> str:
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return repr(number)


SCALARS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(toml_float),
    st.booleans().map(lambda b: str(b).lower()),
    st.text(max_size=40).map(toml_string),
    st.sampled_from(
        ["10s", "15m", "600000w", "-1h", "1e20", "0", "5MB", "0KB", "99999999999TB", "${X}", "", "∞"]
    ).map(toml_string),
    st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), inner, max_size=3).map(
            lambda table: "{" + ", ".join(f"{k} = {v}" for k, v in table.items()) + "}"
        ),
    ),
    max_leaves=8,
)


@st.composite
def config_with_odd_values(draw: st.DrawFn) -> str:
    """The valid config with a few known keys set to values of any kind."""
    lines = VALID.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from(sorted(SECTIONS)))
        key = draw(st.sampled_from(sorted(SECTIONS[section].model_fields)))
        header = "[monitor]" if section == "monitor" else f"[[{section}]]"
        at = lines.index(header) + 1
        lines.insert(at, f"{key} = {draw(VALUES)}")
    return "\n".join(lines) + "\n"


TOML_BITS = st.sampled_from(
    ["[monitor]", "[[feed]]", "[[watchlist]]", "[[notifier]]", "[", "]", "[[", "]]", "=", '"', "'", '"""',
     "{", "}", ",", ".", "#", "\n", " ", "name", "url", "terms", "query", "notify", "urls", "interval",
     "database", "x", "1", "true", "${X}", "$${", "\\", "\\u0000", "é", "\x00", "\ud800"]
)  # fmt: skip


@FUZZ
@given(config_with_odd_values())
def test_known_keys_with_values_of_any_kind_load_or_explain(text: str) -> None:
    outcome_of_config(text)


@FUZZ
@given(st.lists(TOML_BITS, max_size=40).map("".join), st.text(max_size=20))
def test_toml_ish_text_loads_or_explains(text: str, value: str) -> None:
    outcome_of_config(text, {"X": value})


@FUZZ
@given(st.text(max_size=200))
def test_any_text_after_a_valid_config_loads_or_explains(tail: str) -> None:
    outcome_of_config(VALID + tail)


# --- the query language ---------------------------------------------------------------------------------------

QUERY_BITS = st.sampled_from(
    ["(", ")", " ", "AND", "OR", "NOT", "-", '"', "NEAR/", "NEAR/3", "NEAR/0", "NEAR/99999999999999", "/",
     "feed:", "feed:gazette", "*", "Wescam", "export", "permit*", "\"export permit\"", "İ", "ß", "\x00", "é", "?"]
)  # fmt: skip


def outcome_of_query(query: str) -> None:
    try:
        parse_query(query)
        compile_watchlists([WatchlistSpec("fuzz", query=query)])
    except QueryError as error:
        assert 0 <= error.position <= len(query)


@FUZZ
@given(st.lists(QUERY_BITS, max_size=30).map("".join))
def test_query_shaped_text_parses_or_explains(query: str) -> None:
    outcome_of_query(query)


@FUZZ
@given(st.text(max_size=100))
def test_any_text_as_a_query_parses_or_explains(query: str) -> None:
    outcome_of_query(query)


@FUZZ
@given(st.lists(st.text(max_size=30), max_size=5), st.lists(st.text(max_size=30), max_size=3))
def test_any_terms_compile_or_explain(terms: list[str], exclude: list[str]) -> None:
    with contextlib.suppress(QueryError):
        compile_watchlists([WatchlistSpec("fuzz", terms=tuple(terms), exclude=tuple(exclude))])


def test_through_the_cli_odd_configs_exit_0_or_2_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    for text in (
        VALID,
        VALID.replace('"Wescam"', '"Wescam\\u0000"') + "[monitor.extra]\n",
        VALID + 'interval = "600000w"\nquery = "((( NEAR/3"\n',
        "[[feed]]\nname = 1\n[[feed]]\nname = 1\n" + "x = [" * 50,
        '[monitor]\ndatabase = "${X}"\n',
    ):
        path.write_text(text, encoding="utf-8")
        result = run_cli(path, "check", env={"X": "postgresql://u:p@h/d%"})
        # 3: the config is valid but its database cannot be opened (here: a host that does not resolve)
        assert result.returncode in (0, 2, 3), result.stderr
        assert "Traceback" not in result.stderr
