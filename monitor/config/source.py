"""The raw config text: ``${VAR}`` expansion, and finding the line of a key (tomllib gives no positions)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from monitor.errors import ConfigError
from monitor.redact import mask_url

DEFAULT_CONFIG_PATH = Path("config/monitor.toml")
MAX_NESTING = 32
_TOO_DEEP = f"nested more than {MAX_NESTING} levels deep (arrays, inline tables or dotted keys)"


def default_config_path(env: Mapping[str, str] = os.environ) -> Path:
    """``$MONITOR_CONFIG`` when set, else ``config/monitor.toml`` relative to the working directory."""
    return Path(env["MONITOR_CONFIG"]) if env.get("MONITOR_CONFIG") else DEFAULT_CONFIG_PATH


# --- reading ------------------------------------------------------------------------------------------------


def read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The text of the config file and its TOML document; ConfigError (``path:line: ...``) when it cannot be read,
    is not UTF-8, is nested too deep or is not valid TOML."""
    text = _read_text(path)
    deep = too_deep_line(text, MAX_NESTING)
    if deep is not None:
        raise ConfigError([f"{path}:{deep}: {_TOO_DEEP}"])
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{path}:{_toml_error_line(str(error), text)}: invalid TOML: {error}"]) from error
    except RecursionError:  # the line check above should have caught it; never let it out as a traceback
        raise ConfigError([f"{path}:1: {_TOO_DEEP}"]) from None


def _read_text(path: Path) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8")
    except OSError as error:
        raise ConfigError([f"{path}: cannot read the config file: {error.strerror}"]) from None
    except UnicodeDecodeError as error:
        line = Path(path).read_bytes()[: error.start].count(b"\n") + 1
        raise ConfigError([f"{path}:{line}: the config file is not UTF-8 text"]) from None


def _toml_error_line(message: str, text: str) -> int:
    found = re.search(r"\(at line (\d+), column \d+\)", message)
    return int(found.group(1)) if found else max(1, len(text.splitlines()))


# --- values shared by the settings models and the database-only reading --------------------------------------


def resolve_database(value: str, base: Path) -> str:
    """The [monitor] database URL, a relative SQLite file made absolute from the config file's folder ``base``;
    ValueError (the message for the user) when it is not a URL."""
    scheme, sep, rest = value.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise ValueError(f'not a database URL: {mask_url(value)!r} (use e.g. "sqlite:///monitor.db")')
    if scheme.split("+")[0].lower() != "sqlite" or not rest.startswith("/"):
        return value
    file, qmark, query = rest[1:].partition("?")
    if not file or file == ":memory:" or file.startswith("/"):
        return value
    return f"{scheme}:///{(base / file).resolve()}{qmark}{query}"


def feed_url(value: str, base: Path) -> str:
    """A feed's URL as a load gives it: an http(s) one as written, a file one made absolute ("file://feeds/x.xml"
    is from the config's folder ``base``); ValueError for anything else."""
    if _is_web_url(value):
        return value
    scheme, sep, rest = value.partition("://")
    if sep and scheme.lower() == "file":
        file = Path(rest)
        return (file if file.is_absolute() else (base / file).resolve()).as_uri()
    raise ValueError(f"must be an http://, https:// or file:// URL (got {mask_url(value)!r})")


def page_url(value: str) -> str:
    """A page's URL as a load gives it: http(s) only; ValueError for anything else."""
    if _is_web_url(value):
        return value
    raise ValueError(f"must be an http:// or https:// URL (got {mask_url(value)!r})")


def _is_web_url(value: str) -> bool:
    scheme, sep, rest = value.partition("://")
    return bool(sep) and scheme.lower() in ("http", "https") and bool(rest.split("/")[0])


def describe_value(value: object) -> str:
    """A value's kind for messages; never the text of a string, which may hold an expanded secret."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    kinds = {str: "a string", list: "a list", dict: "a table"}
    return next((name for kind, name in kinds.items() if isinstance(value, kind)), type(value).__name__)


# --- ${VAR} expansion ---------------------------------------------------------------------------------------

_REFERENCE = re.compile(r"\$(\$\{)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|(\$\{)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def expand_env(text: str, env: Mapping[str, str], used: set[str] | None = None) -> tuple[str, list[str]]:
    """``text`` with ``${VAR}`` replaced from ``env`` and ``$${`` turned into ``${``; and the problems found.
    An unset variable stays as written, so it causes no second error downstream. The values substituted are
    added to ``used`` (they are secrets by provenance). Inside a URL a value is percent-encoded for where it
    stands (see :func:`_encode_for_url`), so a password holding ``@``, ``/`` or ``#`` cannot split the URL."""
    problems: list[str] = []
    out: list[str] = []  # the expanded text so far: what a value is encoded for depends on it
    position = 0
    for found in _REFERENCE.finditer(text):
        out.append(text[position : found.start()])
        position = found.end()
        escaped, name, unfinished = found.groups()
        if escaped:
            out.append("${")
        elif unfinished:
            problems.append("unfinished ${ (write ${NAME}, or $${ for a literal ${)")
            out.append("${")
        elif name not in env:
            problems.append(f"${{{name}}} is not set in the environment")
            out.append(found.group(0))
        else:
            if used is not None:
                used.add(env[name])
            out.append(_encode_for_url(env[name], "".join(out), text[position:]))
    out.append(text[position:])
    return "".join(out), problems


def _encode_for_url(value: str, before: str, after: str) -> str:
    """``value`` as it must be written where it stands: as is outside a URL (``${URL}``, ``${BASE}/feed``) and
    in a URL's host; percent-encoded whole in the user and password and in the query; in a path, all but
    ``/``."""
    scheme = _SCHEME.search(before)
    if scheme is None:
        return value
    prefix = before[scheme.end() :]
    if "?" in prefix or "#" in prefix:
        return quote(value, safe="")
    if "/" in prefix:
        return quote(value, safe="/")
    rest_of_authority = re.split(r"[/?#]", after, maxsplit=1)[0]
    return quote(value, safe="") if "@" in rest_of_authority else value


KeyPath = tuple[str | int, ...]


def expand_tree(
    value: Any,
    env: Mapping[str, str],
    at: KeyPath,
    problems: list[tuple[KeyPath, str]],
    used: set[str] | None = None,
) -> Any:
    if isinstance(value, str):
        expanded, found = expand_env(value, env, used)
        problems.extend((at, problem) for problem in found)
        return expanded
    if isinstance(value, dict):
        return {key: expand_tree(item, env, (*at, key), problems, used) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_tree(item, env, (*at, index), problems, used) for index, item in enumerate(value)]
    return value


# --- locating keys in the file ------------------------------------------------------------------------------

_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"\s*(\[\[?)\s*({_DOTTED_KEY})\s*\]\]?")
_KEY_LINE = re.compile(rf"\s*({_DOTTED_KEY})\s*=(.*)")


def _split_key(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip('"').strip("'") for part in re.findall(_KEY_PART, dotted))


class LineLocator:
    """Maps key paths such as ("feed", 1, "url") (0-based table index) to 1-based line numbers.

    It only locates: tomllib does the parsing. It tracks multi-line strings and arrays so that lines inside
    them are never taken for keys or headers."""

    def __init__(self, text: str) -> None:
        self.lines: dict[KeyPath, int] = {}
        self._array_counts: dict[tuple[str, ...], int] = {}
        prefix: KeyPath = ()
        open_string: str | None = None  # the delimiter of a multi-line string we are inside
        depth = 0  # open brackets and braces of a value spanning lines
        for number, line in enumerate(text.splitlines(), start=1):
            if open_string is None and depth == 0:
                header = _HEADER.match(line)
                found = None if header else _KEY_LINE.match(line)
                if header:
                    prefix = self._enter_table(_split_key(header.group(2)), header.group(1) == "[[")
                    self.lines.setdefault(prefix, number)
                    continue
                if not found:
                    continue
                self.lines.setdefault((*prefix, *_split_key(found.group(1))), number)
                line = found.group(2)
            open_string, depth, _ = _scan_value(line, open_string, depth)

    def _enter_table(self, parts: tuple[str, ...], is_array: bool) -> KeyPath:
        if is_array:
            self._array_counts[parts] = self._array_counts.get(parts, 0) + 1
        path: KeyPath = ()
        for size in range(1, len(parts) + 1):
            path = (*path, parts[size - 1])
            if parts[:size] in self._array_counts:  # the latest element of an array of tables
                path = (*path, self._array_counts[parts[:size]] - 1)
        return path

    def line_of(self, *key_path: str | int) -> int | None:
        """The line of ``key_path``, or of its nearest located ancestor (the table header)."""
        for size in range(len(key_path), 0, -1):
            if key_path[:size] in self.lines:
                return self.lines[key_path[:size]]
        return None


def too_deep_line(text: str, limit: int) -> int | None:
    """The first line where arrays and inline tables nest more than ``limit`` deep, or a table header or key
    has more than ``limit`` dotted parts; None when there is none. Checked before parsing, so that a hostile
    file is an error at its line and never a RecursionError."""
    open_string: str | None = None
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if open_string is None and depth == 0:
            header = _HEADER.match(line)
            found = None if header else _KEY_LINE.match(line)
            key = header.group(2) if header else found.group(1) if found else ""
            if len(_split_key(key)) > limit:
                return number
            if header:
                continue
            if found:
                line = found.group(2)
        open_string, depth, deepest = _scan_value(line, open_string, depth)
        if deepest > limit:
            return number
    return None


def _scan_value(text: str, open_string: str | None, depth: int) -> tuple[str | None, int, int]:
    """Carry the multi-line state of a value across one line of text; also the deepest nesting on it."""
    position = 0
    deepest = depth
    while position < len(text):
        if open_string is not None:
            end = _find_closing(text, position, open_string)
            if end < 0:
                return open_string, depth, deepest
            position, open_string = end + 3, None
            continue
        char = text[position]
        if char == "#":
            break
        if text.startswith(('"""', "'''"), position):
            open_string, position = text[position : position + 3], position + 3
            continue
        if char in "\"'":
            end = _find_closing(text, position + 1, char)
            position = len(text) if end < 0 else end + 1
            continue
        depth += (char in "[{") - (char in "]}")
        deepest = max(deepest, depth)
        position += 1
    return open_string, max(depth, 0), deepest


def _find_closing(text: str, start: int, delimiter: str) -> int:
    position = start
    while (found := text.find(delimiter, position)) >= 0:
        if delimiter[0] == "'" or (len(text[:found]) - len(text[:found].rstrip("\\"))) % 2 == 0:
            return found
        position = found + 1
    return -1
