"""The only reader of the config file: TOML -> validated, frozen ``Settings``.

Every mistake in the file is reported at once, each as ``path:line: message``. tomllib gives no positions for
a valid document, so ``LineLocator`` scans the text for table headers and ``key =`` lines to point at them.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from croniter import croniter
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from monitor.errors import ConfigError
from monitor.models import WatchlistSpec
from monitor.secrets import mask_url

DEFAULT_CONFIG_PATH = Path("config/monitor.toml")


def _project_version() -> str:
    try:
        return importlib.metadata.version("monitor")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "0"


DEFAULT_USER_AGENT = (
    f"monitor/{_project_version()} (media monitoring; +https://github.com/monitor-alerts/monitor)"
)


def default_config_path(env: Mapping[str, str] = os.environ) -> Path:
    """``$MONITOR_CONFIG`` when set, else ``config/monitor.toml`` relative to the working directory."""
    return Path(env["MONITOR_CONFIG"]) if env.get("MONITOR_CONFIG") else DEFAULT_CONFIG_PATH


# --- durations and sizes ------------------------------------------------------------------------------------

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_duration(text: str) -> float:
    """Seconds in ``text``: "30s", "15m", "1h30m", "3d", "1w", "250ms"; a plain number is seconds."""
    compact = text.strip().replace(" ", "")
    if _NUMBER.fullmatch(compact):
        return float(compact)
    parts = _DURATION_PART.findall(compact)
    if not compact or "".join(number + unit for number, unit in parts) != compact:
        raise ValueError(f"bad duration {text!r} (use e.g. 30s, 15m, 2h, 1d)")
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def format_duration(seconds: float) -> str:
    """The shortest way ``parse_duration`` reads back: 90 -> "1m30s", 5 -> "5s", 0.25 -> "0.25s"."""
    if seconds != int(seconds) or seconds < 1:
        return f"{seconds:g}s"
    rest, text = int(seconds), ""
    for unit in ("w", "d", "h", "m", "s"):
        count, rest = divmod(rest, int(_DURATION_UNITS[unit]))
        text += f"{count}{unit}" if count else ""
    return text or "0s"


_SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


def parse_size(text: str) -> int:
    """Bytes in ``text``: "10MB" (decimal), "5MiB" (binary), "512KB", "800B"; a plain integer is bytes."""
    found = _SIZE.fullmatch(text.strip().lower())
    if not found or found.group(2) not in _SIZE_UNITS:
        raise ValueError(f"bad size {text!r} (use e.g. 512KB, 10MB, 5MiB)")
    return int(float(found.group(1)) * _SIZE_UNITS[found.group(2)])


# --- ${VAR} expansion ---------------------------------------------------------------------------------------

_REFERENCE = re.compile(r"\$(\$\{)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|(\$\{)")


def expand_env(text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """``text`` with ``${VAR}`` replaced from ``env`` and ``$${`` turned into ``${``; and the problems found.
    An unset variable stays as written, so it causes no second error downstream."""
    problems: list[str] = []

    def replace(found: re.Match[str]) -> str:
        escaped, name, unfinished = found.groups()
        if escaped:
            return "${"
        if unfinished:
            problems.append("unfinished ${ (write ${NAME}, or $${ for a literal ${)")
            return "${"
        if name not in env:
            problems.append(f"${{{name}}} is not set in the environment")
            return found.group(0)
        return env[name]

    return _REFERENCE.sub(replace, text), problems


KeyPath = tuple[str | int, ...]


def _expand_tree(value: Any, env: Mapping[str, str], at: KeyPath, problems: list[tuple[KeyPath, str]]) -> Any:
    if isinstance(value, str):
        expanded, found = expand_env(value, env)
        problems.extend((at, problem) for problem in found)
        return expanded
    if isinstance(value, dict):
        return {key: _expand_tree(item, env, (*at, key), problems) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand_tree(item, env, (*at, index), problems) for index, item in enumerate(value)]
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
            open_string, depth = _scan_value(line, open_string, depth)

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


def _scan_value(text: str, open_string: str | None, depth: int) -> tuple[str | None, int]:
    """Carry the multi-line state of a value across one line of text."""
    position = 0
    while position < len(text):
        if open_string is not None:
            end = _find_closing(text, position, open_string)
            if end < 0:
                return open_string, depth
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
        position += 1
    return open_string, max(depth, 0)


def _find_closing(text: str, start: int, delimiter: str) -> int:
    position = start
    while (found := text.find(delimiter, position)) >= 0:
        if delimiter[0] == "'" or (len(text[:found]) - len(text[:found].rstrip("\\"))) % 2 == 0:
            return found
        position = found + 1
    return -1


# --- field types --------------------------------------------------------------------------------------------


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("config", "{message}", {"message": message})


def _duration_input(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _problem(f'expected a duration such as "15m", got {_describe(value)}')
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError as error:
            raise _problem(str(error)) from None
    return float(value)


def _size_input(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _problem(f'expected a size such as "10MB", got {_describe(value)}')
    if isinstance(value, str):
        try:
            return parse_size(value)
        except ValueError as error:
            raise _problem(str(error)) from None
    return value


def _at_least(minimum: float, show: Callable[[float], str]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value < minimum:
            raise _problem(f"must be at least {show(minimum)} (got {show(value)})")
        return value

    return check


def _not_blank(value: str) -> str:
    if not value.strip():
        raise _problem("must not be empty")
    return value


Duration = Annotated[float, BeforeValidator(_duration_input), AfterValidator(_at_least(0, format_duration))]
PositiveDuration = Annotated[
    float, BeforeValidator(_duration_input), AfterValidator(_at_least(0.001, format_duration))
]
FeedInterval = Annotated[
    float, BeforeValidator(_duration_input), AfterValidator(_at_least(1, format_duration))
]
Size = Annotated[int, BeforeValidator(_size_input), AfterValidator(_at_least(1, lambda n: f"{n:g} bytes"))]
Count = Annotated[StrictInt, AfterValidator(_at_least(1, lambda n: f"{n:g}"))]
Name = Annotated[str, AfterValidator(_not_blank)]
Text = Annotated[str, AfterValidator(_not_blank)]
Mode = Literal["immediate", "digest"]


def _base_folder(info: ValidationInfo) -> Path:
    context = info.context or {}
    return Path(context.get("base", "."))


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily span, in the notifier's time zone, when alerts wait; it may wrap past midnight."""

    start: time
    end: time

    def covers(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def _quiet_hours_input(value: object) -> object:
    if not isinstance(value, str):
        return value
    found = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
    hours = [int(part) for part in found.groups()] if found else []
    if not found or hours[0] > 23 or hours[2] > 23 or hours[1] > 59 or hours[3] > 59:
        raise _problem(f'bad quiet hours {value!r} (use e.g. "22:00-07:00")')
    span = QuietHours(time(hours[0], hours[1]), time(hours[2], hours[3]))
    if span.start == span.end:
        raise _problem(f"quiet hours {value!r} start and end at the same time")
    return span


# --- the models ---------------------------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MonitorSettings(_Section):
    """The [monitor] table: the daemon as a whole and the defaults of every feed."""

    database: str = Field(default="sqlite:///monitor.db", validate_default=True)
    interval: FeedInterval = 900.0
    timeout: PositiveDuration = 30.0
    max_feed_size: Size = 10_000_000
    max_page_size: Size = 5_000_000
    fulltext: StrictBool = True
    notify_max_age: PositiveDuration = 3 * 86400.0
    user_agent: Text = DEFAULT_USER_AGENT
    max_connections: Count = 20
    max_per_host: Count = 4
    extract_timeout: PositiveDuration = 20.0
    workers: Count = 2
    shutdown_timeout: Duration = 20.0
    retry_for: Duration = 86400.0
    max_backoff: PositiveDuration = 6 * 3600.0
    group_window: Duration = 5.0
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_log_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database")
    @classmethod
    def _resolve_database(cls, value: str, info: ValidationInfo) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
            raise _problem(f'not a database URL: {mask_url(value)!r} (use e.g. "sqlite:///monitor.db")')
        if scheme.split("+")[0].lower() != "sqlite" or not rest.startswith("/"):
            return value
        file, qmark, query = rest[1:].partition("?")
        if not file or file == ":memory:" or file.startswith("/"):
            return value
        return f"{scheme}:///{(_base_folder(info) / file).resolve()}{qmark}{query}"


class FeedSettings(_Section):
    """One [[feed]]: a news feed to poll."""

    name: Name
    url: str
    interval: FeedInterval
    fulltext: StrictBool

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str, info: ValidationInfo) -> str:
        scheme, sep, rest = value.partition("://")
        if sep and scheme.lower() in ("http", "https") and rest.split("/")[0]:
            return value
        if sep and scheme.lower() == "file":
            file = Path(
                rest
            )  # "file:///abs/feed.xml" or "file://feeds/x.xml" (relative to the config folder)
            return (file if file.is_absolute() else (_base_folder(info) / file).resolve()).as_uri()
        raise _problem(f"must be an http://, https:// or file:// URL (got {mask_url(value)!r})")


class WatchlistSettings(_Section):
    """One [[watchlist]]: what to look for, where, and whom to tell."""

    name: Name
    terms: tuple[Text, ...] = ()
    exclude: tuple[Text, ...] = ()
    query: Text | None = None
    feeds: tuple[Name, ...] | None = None
    notify: tuple[Name, ...] = ()
    mode: Mode | None = None
    schedule: str | None = None

    @field_validator("schedule")
    @classmethod
    def _check_schedule(cls, value: str | None) -> str | None:
        return None if value is None else _valid_cron(value)

    def spec(self) -> WatchlistSpec:
        return WatchlistSpec(self.name, self.terms, self.exclude, self.query, self.feeds)


class NotifierSettings(_Section):
    """One [[notifier]]: where alerts go (apprise URLs) and when."""

    name: Name
    urls: tuple[str, ...] = ()
    mode: Mode = "immediate"
    schedule: str | None = None
    timezone: str = "UTC"
    max_per_hour: Count | None = None
    quiet_hours: Annotated[QuietHours | None, BeforeValidator(_quiet_hours_input)] = None
    send_empty: StrictBool = False
    template: Path | None = None

    @property
    def logs_only(self) -> bool:
        """The console notifier, or one without URLs, writes alerts to the log."""
        return self.name == "console" or not self.urls

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @field_validator("urls")
    @classmethod
    def _check_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url):
                raise _problem(f"not an apprise URL: {mask_url(url)!r} (expected scheme://...)")
        return urls

    @field_validator("schedule")
    @classmethod
    def _check_schedule(cls, value: str | None) -> str | None:
        return None if value is None else _valid_cron(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise _problem(f"unknown time zone {value!r} (use a name such as UTC or Europe/Paris)") from None
        return value

    @field_validator("template")
    @classmethod
    def _resolve_template(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        file = (_base_folder(info) / value).resolve()
        if not file.is_file():
            raise _problem(f"template file not found: {file}")
        return file


def _valid_cron(value: str) -> str:
    if not croniter.is_valid(value):
        raise _problem(f'bad cron schedule {value!r} (use e.g. "0 8 * * *" for 08:00 every day)')
    return value


class Settings(BaseModel):
    """The whole validated config file. Build it with ``load_settings``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    monitor: MonitorSettings
    feeds: tuple[FeedSettings, ...] = ()
    watchlists: tuple[WatchlistSettings, ...] = ()
    notifiers: tuple[NotifierSettings, ...] = ()
    warnings: tuple[str, ...] = ()
    _locator: LineLocator = PrivateAttr(default_factory=lambda: LineLocator(""))

    def watchlist_specs(self) -> list[WatchlistSpec]:
        return [watchlist.spec() for watchlist in self.watchlists]

    def feed(self, name: str) -> FeedSettings:
        """The feed called ``name``; KeyError when there is none."""
        return _by_name(self.feeds, name, "feed")

    def watchlist(self, name: str) -> WatchlistSettings:
        return _by_name(self.watchlists, name, "watchlist")

    def notifier(self, name: str) -> NotifierSettings:
        return _by_name(self.notifiers, name, "notifier")

    def line_of(self, *key_path: str | int) -> int | None:
        """The line of a key in the file: ``line_of("watchlist", 2, "query")`` is the ``query =`` line of
        the third [[watchlist]] (0-based, as in ``self.watchlists``). Falls back to the table header."""
        return self._locator.line_of(*key_path)

    def where(self, *key_path: str | int) -> str:
        """``path:line`` of a key, for error messages about it."""
        line = self.line_of(*key_path)
        return f"{self.path}:{line}" if line else str(self.path)


_Named = TypeVar("_Named", FeedSettings, WatchlistSettings, NotifierSettings)


def _by_name(items: Iterable[_Named], name: str, kind: str) -> _Named:
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"no {kind} named {name!r}")


# --- loading ------------------------------------------------------------------------------------------------

_TABLES = ("monitor", "feed", "watchlist", "notifier")
_VALID_TABLES = "[monitor], [[feed]], [[watchlist]], [[notifier]]"
_EXPECTED = {
    "string_type": "expected a string",
    "bool_type": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "tuple_type": 'expected a list such as ["a", "b"]',
    "list_type": 'expected a list such as ["a", "b"]',
    "path_type": "expected a file path (a string)",
    "dataclass_type": "expected a string",
}


def load_settings(path: Path, env: Mapping[str, str] = os.environ) -> Settings:
    """Read and validate the config file at ``path``; ``${VAR}`` references expand from ``env``.

    Raises ConfigError listing every problem as ``path:line: message``, in file order."""
    text = _read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{path}:{_toml_error_line(str(error), text)}: invalid TOML: {error}"]) from None
    return _Loader(path, LineLocator(text), env).load(data)


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


def _describe(value: object) -> str:
    """A value's kind for messages; never the text of a string, which may hold an expanded secret."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    kinds = {str: "a string", list: "a list", dict: "a table"}
    return next((name for kind, name in kinds.items() if isinstance(value, kind)), type(value).__name__)


def _label(kind: str, index: int | None, raw: object) -> str:
    if index is None:
        return f"[{kind}]"
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"[[{kind}]] #{index + 1}" + (f' "{name}"' if isinstance(name, str) else "")


def _key_label(loc: tuple[int | str, ...]) -> str:
    return " ".join(str(part) if isinstance(part, str) else f"item {part + 1}" for part in loc)


class _Loader:
    """One load: collects problems with their lines instead of stopping at the first."""

    def __init__(self, path: Path, locator: LineLocator, env: Mapping[str, str]) -> None:
        self.path = path
        self.base = Path(path).resolve().parent
        self.locator = locator
        self.env = env
        self.problems: list[tuple[int, str]] = []

    def report(self, key_path: KeyPath, message: str) -> None:
        self.problems.append((self.locator.line_of(*key_path) or 0, message))

    def load(self, raw: dict[str, Any]) -> Settings:
        expansion_problems: list[tuple[KeyPath, str]] = []
        data = _expand_tree(raw, self.env, (), expansion_problems)
        for key_path, message in expansion_problems:
            self.report(key_path, message)
        tables = self._split_tables(data)
        monitor = self._validate(MonitorSettings, "monitor", None, tables["monitor"][0]) or MonitorSettings()
        feed_defaults = {"interval": monitor.interval, "fulltext": monitor.fulltext}
        feeds = self._validate_all(FeedSettings, "feed", tables["feed"], feed_defaults)
        notifiers = self._validate_all(NotifierSettings, "notifier", tables["notifier"])
        watchlists = self._validate_all(WatchlistSettings, "watchlist", tables["watchlist"])
        for kind in ("feed", "notifier", "watchlist"):
            self._check_unique_names(kind, tables[kind])
        self._check_notifiers(notifiers)
        self._check_watchlists(watchlists, tables, notifiers)
        if self.problems:
            ordered = sorted(self.problems, key=lambda problem: problem[0])
            raise ConfigError([self._format(line, message) for line, message in ordered])
        settings = Settings(
            path=Path(self.path),
            monitor=monitor,
            feeds=tuple(feeds.values()),
            watchlists=tuple(watchlists.values()),
            notifiers=tuple(notifiers.values()),
            warnings=tuple(_warnings(list(feeds.values()), list(watchlists.values()))),
        )
        settings._locator = self.locator
        return settings

    def _format(self, line: int, message: str) -> str:
        return f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}"

    def _split_tables(self, data: dict[str, Any]) -> dict[str, list[Any]]:
        """The raw tables by kind; a misplaced or unknown top-level entry is reported and left out."""
        tables: dict[str, list[Any]] = {"monitor": [{}], "feed": [], "watchlist": [], "notifier": []}
        for key, value in data.items():
            if key == "monitor":
                if isinstance(value, dict):
                    tables["monitor"] = [value]
                else:
                    self.report((key,), "[monitor] must be a table: write [monitor] on a line of its own")
            elif key in _TABLES:
                if isinstance(value, list) and all(isinstance(item, dict) for item in value):
                    tables[key] = value
                else:
                    self.report(
                        (key,), f"{key} must be written as [[{key}]] tables (double brackets), one each"
                    )
            elif isinstance(value, dict):
                self.report((key,), f"unknown table [{key}] (valid tables: {_VALID_TABLES})")
            else:
                self.report((key,), f"unknown top-level key '{key}' (valid tables: {_VALID_TABLES})")
        return tables

    def _validate_all(
        self, model: type[_S], kind: str, raws: list[Any], defaults: Mapping[str, Any] | None = None
    ) -> dict[int, _S]:
        """The valid tables by their index in the file (the invalid ones are reported and left out)."""
        valid = {
            index: self._validate(model, kind, index, {**(defaults or {}), **raw})
            for index, raw in enumerate(raws)
        }
        return {index: item for index, item in valid.items() if item is not None}

    def _validate(self, model: type[_S], kind: str, index: int | None, raw: dict[str, Any]) -> _S | None:
        prefix: KeyPath = (kind,) if index is None else (kind, index)
        try:
            return model.model_validate(raw, context={"base": self.base})
        except ValidationError as error:
            for detail in error.errors():
                loc = tuple(detail["loc"])
                key_path, message = _explain(detail["type"], loc, detail, model)
                self.report((*prefix, *key_path), f"{_label(kind, index, raw)}{message}")
            return None

    def _check_unique_names(self, kind: str, raws: list[Any]) -> None:
        first_seen: dict[str, int] = {}
        for index, raw in enumerate(raws):
            name = raw.get("name")
            if not isinstance(name, str):
                continue
            if name in first_seen:
                first = first_seen[name]
                where = f"[[{kind}]] #{first + 1} at line {self.locator.line_of(kind, first)}"
                self.report(
                    (kind, index, "name"), f"{_label(kind, index, raw)}: duplicate name (also {where})"
                )
            else:
                first_seen[name] = index

    def _check_notifiers(self, notifiers: dict[int, NotifierSettings]) -> None:
        for index, notifier in notifiers.items():
            if notifier.mode == "digest" and notifier.schedule is None:
                self.report(
                    ("notifier", index, "mode"),
                    f'[[notifier]] "{notifier.name}": mode = "digest" needs a schedule, e.g. "0 8 * * *"',
                )

    def _check_watchlists(
        self,
        watchlists: dict[int, WatchlistSettings],
        tables: dict[str, list[Any]],
        notifiers: dict[int, NotifierSettings],
    ) -> None:
        # Names come from the raw tables so that an invalid feed or notifier, already reported, is not also
        # reported as unknown here.
        defined = {kind: list(dict.fromkeys(_names(tables[kind]))) for kind in ("feed", "notifier")}
        schedules = {notifier.name: notifier.schedule for notifier in notifiers.values()}
        for index, watchlist in watchlists.items():
            label = f'[[watchlist]] "{watchlist.name}"'
            if not watchlist.terms and watchlist.query is None:
                self.report(("watchlist", index), f"{label}: needs terms or a query (or both)")
            if watchlist.feeds == ():
                self.report(
                    ("watchlist", index, "feeds"),
                    f"{label}: feeds is empty; leave it out to watch every feed",
                )
            for key, kind in (("feeds", "feed"), ("notify", "notifier")):
                for name in getattr(watchlist, key) or ():
                    if name not in defined[kind]:
                        known = ", ".join(defined[kind]) or "none"
                        self.report(
                            ("watchlist", index, key),
                            f"{label}: {key} names unknown {kind} '{name}' (defined: {known})",
                        )
            if watchlist.schedule is not None and watchlist.mode != "digest":
                self.report(
                    ("watchlist", index, "schedule"), f'{label}: schedule only applies with mode = "digest"'
                )
            if watchlist.mode == "digest" and watchlist.schedule is None:
                unscheduled = [name for name in watchlist.notify if name in schedules and not schedules[name]]
                if unscheduled:
                    self.report(
                        ("watchlist", index, "mode"),
                        f'{label}: mode = "digest" needs a schedule, here or on notifier '
                        + ", ".join(f"'{name}'" for name in unscheduled),
                    )


_S = TypeVar("_S", bound=_Section)


def _names(raws: list[Any]) -> list[str]:
    return [raw["name"] for raw in raws if isinstance(raw.get("name"), str)]


def _explain(
    kind: str, loc: tuple[int | str, ...], detail: Any, model: type[_Section]
) -> tuple[KeyPath, str]:
    """A pydantic error as (key path to locate, message after the table label)."""
    if kind == "extra_forbidden":
        return loc, f": unknown key '{loc[-1]}' (valid keys: {', '.join(model.model_fields)})"
    if kind == "missing":
        return (), f": missing required key '{loc[-1]}'"
    key = _key_label(loc)
    if kind == "config":
        return loc[:1], f" {key}: {detail['msg']}"
    if kind == "literal_error":
        got = repr(detail["input"]) if isinstance(detail["input"], str) else _describe(detail["input"])
        return loc[:1], f" {key}: expected {detail['ctx']['expected']}, got {got}"
    if kind in _EXPECTED:
        return loc[:1], f" {key}: {_EXPECTED[kind]}, got {_describe(detail['input'])}"
    return loc[:1], f" {key}: {detail['msg']}"


def _warnings(feeds: list[FeedSettings], watchlists: list[WatchlistSettings]) -> list[str]:
    found = [
        f"{feed.name}: interval {format_duration(feed.interval)} is under a minute; "
        "that is impolite to real sites"
        for feed in feeds
        if feed.interval < 60
    ]
    if not feeds:
        found.append("no [[feed]] in the config: nothing will be polled")
    if not watchlists:
        found.append("no [[watchlist]] in the config: nothing will be matched")
    return found
