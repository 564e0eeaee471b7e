"""The database's address and the log level, read from the config file without validating the rest: what the
commands that only read or update stored rows (`hits`, `stories`, `deliveries`) take from it; and what `status`
takes (``read_status_settings``).

Validating the whole file loads pydantic and builds every settings model (about 0.15 s of CPU, more than half of
such a command); these commands use two keys of it. The two keys get the same checks and the same messages as in
a full load (tests/test_config_database.py compares them), from the same functions (``source.resolve_database``,
``source.describe_value``); the file must still be readable, valid TOML, and its ``${VAR}`` references in those
keys set. A mistake elsewhere in the file is left to the commands that use that part (`check` finds them all).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor import redact
from monitor.config.fingerprint import config_fingerprint
from monitor.config.source import (
    LineLocator,
    describe_value,
    expand_tree,
    feed_url,
    page_url,
    read_toml,
    resolve_database,
)
from monitor.config.units import DEFAULT_SILENT_AFTER, SILENT_AFTER_RANGE, parse_duration
from monitor.errors import ConfigError

LOG_LEVELS = ("debug", "info", "warning", "error")
DEFAULT_DATABASE = "sqlite:///monitor.db"


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """[monitor] database (absolute for a SQLite file) and log_level, as a full load gives them."""

    database: str
    log_level: str


def read_database_settings(path: Path, env: Mapping[str, str] = os.environ) -> DatabaseSettings:
    """[monitor] database and log_level of the config file at ``path``; ConfigError (``path:line: message``, in
    file order) when the file cannot be read or either key is wrong."""
    return _database_settings(path, *read_toml(path), env)


def _database_settings(
    path: Path, text: str, raw: dict[str, Any], env: Mapping[str, str]
) -> DatabaseSettings:
    """``read_database_settings`` of the file's ``text`` and its TOML document ``raw``."""
    locator = LineLocator(text)
    problems: list[tuple[int, str]] = []

    def report(key: str, message: str) -> None:
        problems.append((locator.line_of("monitor", key) or 0, message))

    expansion_problems: list[tuple[tuple[str | int, ...], str]] = []
    substituted: set[str] = set()
    data = expand_tree(raw, env, (), expansion_problems, substituted)
    redact.remember(*substituted)  # before any message, which may quote them
    for key_path, message in expansion_problems:
        if key_path[:2] in (("monitor", "database"), ("monitor", "log_level")):
            problems.append((locator.line_of(*key_path) or 0, message))
    monitor: Any = data.get("monitor", {})
    if not isinstance(monitor, dict):
        problems.append(
            (
                locator.line_of("monitor") or 0,
                "[monitor] must be a table: write [monitor] on a line of its own",
            )
        )
        monitor = {}
    database = _database(monitor.get("database", DEFAULT_DATABASE), Path(path).resolve().parent, report)
    log_level = _log_level(monitor.get("log_level", "info"), report)
    if problems:
        lines = sorted(problems, key=lambda problem: problem[0])
        raise ConfigError(
            [f"{path}:{line}: {message}" if line else f"{path}: {message}" for line, message in lines]
        )
    assert database is not None and log_level is not None
    redact.remember_password(database)
    return DatabaseSettings(database, log_level)


def _database(value: object, base: Path, report: Any) -> str | None:
    if not isinstance(value, str):
        report("database", f"[monitor] database: expected a string, got {describe_value(value)}")
        return None
    try:
        return resolve_database(value, base)
    except ValueError as error:
        report("database", f"[monitor] database: {error}")
        return None


def _log_level(value: object, report: Any) -> str | None:
    level = value.lower() if isinstance(value, str) else value
    if level in LOG_LEVELS:
        return str(level)
    got = repr(level) if isinstance(level, str) else describe_value(level)
    expected = ", ".join(repr(name) for name in LOG_LEVELS[:-1]) + f" or {LOG_LEVELS[-1]!r}"
    report("log_level", f"[monitor] log_level: expected {expected}, got {got}")
    return None


@dataclass(frozen=True, slots=True)
class StatusSettings:
    """What `monitor status` reads of the config, as a full load gives it: the database and log level, each
    feed's and page's URL by name, [monitor] silent_after and the config's fingerprint."""

    database: DatabaseSettings
    sources: dict[str, str]
    silent_after: float
    fingerprint: str


def read_status_settings(path: Path, env: Mapping[str, str] = os.environ) -> StatusSettings | None:
    """``StatusSettings`` of the config file at ``path``, read without validating the rest of it (pydantic's
    import and the settings models were a third of the command), or None when any of what it reads is not
    plainly right, or the file cannot be read: the caller then loads the whole file, whose messages say what is
    wrong. A mistake elsewhere in the file is left to `check`, as for `hits`."""
    try:
        text, raw = read_toml(path)
        database = _database_settings(path, text, raw, env)
    except ConfigError:
        return None
    problems: list[tuple[tuple[str | int, ...], str]] = []
    data = expand_tree(raw, env, (), problems, set())
    monitor = data.get("monitor", {})
    if problems or not isinstance(monitor, dict):
        return None
    silent_after = _silent_after(monitor.get("silent_after", DEFAULT_SILENT_AFTER))
    sources = _sources(data, Path(path).resolve().parent)
    if silent_after is None or sources is None:
        return None
    return StatusSettings(database, sources, silent_after, config_fingerprint(data))


def _silent_after(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = parse_duration(value) if isinstance(value, str) else float(value)
    except ValueError:
        return None
    low, high = SILENT_AFTER_RANGE
    return seconds if low <= seconds <= high else None  # (NaN is neither)


def _sources(data: Mapping[str, Any], base: Path) -> dict[str, str] | None:
    """Each [[feed]]'s and [[page]]'s URL by name, in file order (feeds first), or None."""
    sources: dict[str, str] = {}
    for kind, url_of in (("feed", lambda url: feed_url(url, base)), ("page", page_url)):
        tables = data.get(kind, [])
        if not isinstance(tables, list):
            return None
        for table in tables:
            name, url = (table.get("name"), table.get("url")) if isinstance(table, dict) else (None, None)
            if not isinstance(name, str) or not name.strip() or name in sources or not isinstance(url, str):
                return None
            try:
                sources[name] = url_of(url)
            except ValueError:
                return None
    return sources
