"""The validated, frozen settings: pydantic models with a field type per kind of value."""

from __future__ import annotations

import dataclasses
import math
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from monitor import __version__
from monitor.config.source import (
    DEFAULT_CONFIG_PATH as DEFAULT_CONFIG_PATH,  # re-exported: where they were first defined
)
from monitor.config.source import LineLocator, feed_url, page_url, resolve_database
from monitor.config.source import default_config_path as default_config_path
from monitor.config.source import describe_value as describe_value
from monitor.config.units import (
    DEFAULT_SILENT_AFTER,
    SILENT_AFTER_RANGE,
    format_duration,
    format_size,
    parse_duration,
    parse_size,
)
from monitor.config.web_settings import WebSettings
from monitor.models import WatchlistSpec
from monitor.notify.policy import SNIPPETS
from monitor.redact import mask_url

TAG_PREFIX = "tag:"  # in a watchlist's feeds, "tag:turkey" names every feed tagged "turkey"


# The version `monitor --version` prints; read from the package rather than its installed metadata, which takes
# a scan of every installed distribution at each start.
DEFAULT_USER_AGENT = f"monitor/{__version__} (media monitoring; +https://github.com/monitor-alerts/monitor)"


# --- field types --------------------------------------------------------------------------------------------


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("config", "{message}", {"message": message})


def _duration_input(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _problem(f'expected a duration such as "15m", got {describe_value(value)}')
    if isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except ValueError as error:
            raise _problem(str(error)) from error
    else:
        seconds = float(value)
    if not math.isfinite(seconds):
        raise _problem(f'expected a duration such as "15m", got {describe_value(value)}')
    return seconds


def _size_input(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _problem(f'expected a size such as "10MB", got {describe_value(value)}')
    if isinstance(value, str):
        try:
            return parse_size(value)
        except ValueError as error:
            raise _problem(str(error)) from error
    return value


def _within(minimum: float, maximum: float, show: Callable[[float], str]) -> Callable[[Any], Any]:
    """Every number in the config has bounds: absurd values are config errors, not crashes later on."""

    def check(value: Any) -> Any:
        if value < minimum:
            raise _problem(f"must be at least {show(minimum)} (got {show(value)})")
        if value > maximum:
            raise _problem(f"must be at most {show(maximum)} (got {show(value)})")
        return value

    return check


def _show_size(size: float) -> str:
    return format_size(int(size))


def _show_count(count: float) -> str:
    return f"{count:g}" if count < 1e6 else f"{count:.3g}"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise _problem("must not be empty")
    return value


# The bounds are documented in docs/configuration.md; keep the two in step.
HOUR, DAY = 3600.0, 86400.0
_DURATION = BeforeValidator(_duration_input)
FeedInterval = Annotated[float, _DURATION, AfterValidator(_within(1, 30 * DAY, format_duration))]
Timeout = Annotated[float, _DURATION, AfterValidator(_within(0.001, HOUR, format_duration))]
Grace = Annotated[float, _DURATION, AfterValidator(_within(0, HOUR, format_duration))]
Lease = Annotated[float, _DURATION, AfterValidator(_within(1, DAY, format_duration))]
Window = Annotated[float, _DURATION, AfterValidator(_within(0, DAY, format_duration))]
Span = Annotated[float, _DURATION, AfterValidator(_within(0, 30 * DAY, format_duration))]
PositiveSpan = Annotated[float, _DURATION, AfterValidator(_within(0.001, 30 * DAY, format_duration))]
MaxAge = Annotated[float, _DURATION, AfterValidator(_within(0.001, 366 * DAY, format_duration))]
Retention = Annotated[float, _DURATION, AfterValidator(_within(HOUR, 100 * 366 * DAY, format_duration))]
RecheckAge = Annotated[float, _DURATION, AfterValidator(_within(1, 366 * DAY, format_duration))]
Rechecks = Annotated[tuple[RecheckAge, ...], Field(max_length=20)]
Silence = Annotated[float, _DURATION, AfterValidator(_within(*SILENT_AFTER_RANGE, format_duration))]
FeedSize = Annotated[int, BeforeValidator(_size_input), AfterValidator(_within(1, 10**9, _show_size))]
PageSize = Annotated[int, BeforeValidator(_size_input), AfterValidator(_within(1, 10**8, _show_size))]
Connections = Annotated[StrictInt, AfterValidator(_within(1, 1000, _show_count))]
PerHost = Annotated[StrictInt, AfterValidator(_within(1, 100, _show_count))]
Workers = Annotated[StrictInt, AfterValidator(_within(1, 64, _show_count))]
PerHour = Annotated[StrictInt, AfterValidator(_within(1, 100_000, _show_count))]
SnippetCount = Annotated[StrictInt, AfterValidator(_within(1, 20, _show_count))]
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


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MonitorSettings(Section):
    """The [monitor] table: the daemon as a whole and the defaults of every feed."""

    database: str = Field(default="sqlite:///monitor.db", validate_default=True)
    interval: FeedInterval = 900.0
    timeout: Timeout = 30.0
    max_feed_size: FeedSize = 10_000_000
    max_page_size: PageSize = 5_000_000
    fulltext: StrictBool = True
    notify_max_age: MaxAge = 3 * 86400.0
    user_agent: Text = DEFAULT_USER_AGENT
    max_connections: Connections = 20
    max_per_host: PerHost = 4
    allow_proxy: StrictBool = False
    extract_timeout: Timeout = 20.0
    workers: Workers = 2
    shutdown_timeout: Grace = 20.0
    lease: Lease = 120.0  # PostgreSQL: how long a daemon holds a feed it polls (renewed while the poll runs)
    retry_for: Span = 86400.0
    max_backoff: PositiveSpan = 6 * 3600.0
    group_window: Window = 5.0
    retention: Retention = 180 * DAY
    recheck: Rechecks = (HOUR, DAY, 7 * DAY)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    silent_after: Silence = DEFAULT_SILENT_AFTER
    health_notify: tuple[Name, ...] = ()

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_log_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database")
    @classmethod
    def _resolve_database(cls, value: str, info: ValidationInfo) -> str:
        try:
            return resolve_database(value, _base_folder(info))
        except ValueError as error:
            raise _problem(str(error)) from None


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Headers the fetcher sets itself on every request (conditional GET, body decoding, connection handling).
_RESERVED_HEADERS = frozenset(
    {"host", "if-none-match", "if-modified-since", "accept-encoding", "content-length", "connection"}
)


class FeedSettings(Section):
    """One [[feed]]: a news feed to poll."""

    name: Name
    url: str
    interval: FeedInterval
    fulltext: StrictBool
    user_agent: Text | None = None
    # Values may hold secrets (``${SITE_COOKIE}``): kept out of repr, never shown.
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    tags: tuple[Name, ...] = ()

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.fullmatch(name):
                raise _problem(f"{name!r} is not a valid HTTP header name")
            if name.lower() in _RESERVED_HEADERS:
                raise _problem(f"header {name!r} is set by monitor itself and cannot be configured")
            if "\r" in value or "\n" in value or "\0" in value:
                raise _problem(f"the value of header {name!r} holds a line break")
        return headers

    @field_validator("user_agent")
    @classmethod
    def _check_user_agent(cls, value: str | None) -> str | None:
        if value is not None and ("\r" in value or "\n" in value):
            raise _problem("holds a line break")
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str, info: ValidationInfo) -> str:
        try:
            return feed_url(value, _base_folder(info))
        except ValueError as error:
            raise _problem(str(error)) from error


class PageSettings(Section):
    """One [[page]]: a web page without a feed, followed for new links (``links``) or changed text (``text``)."""

    name: Name
    url: str
    interval: FeedInterval
    fulltext: StrictBool
    mode: Literal["links", "text"] = "links"
    selector: Text | None = None
    tags: tuple[Name, ...] = ()

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        try:
            return page_url(value)
        except ValueError as error:
            raise _problem(str(error)) from error

    @field_validator("selector")
    @classmethod
    def _check_selector(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from cssselect import HTMLTranslator, SelectorError  # only for a [[page]]

        try:
            HTMLTranslator().css_to_xpath(value)  # what lxml's cssselect() runs
        except SelectorError as exc:
            raise _problem(f"not a valid CSS selector {value!r}: {exc}") from None
        return value


class WatchlistSettings(Section):
    """One [[watchlist]]: what to look for, where, and whom to tell."""

    name: Name
    terms: tuple[Text, ...] = ()
    exclude: tuple[Text, ...] = ()
    query: Text | None = None
    feeds: tuple[Name, ...] | None = None
    notify: tuple[Name, ...] = ()
    mode: Mode | None = None
    schedule: str | None = None
    stem: StrictBool = True
    languages: tuple[Name, ...] | None = None

    @field_validator("schedule")
    @classmethod
    def _check_schedule(cls, value: str | None) -> str | None:
        return None if value is None else _valid_cron(value)

    @field_validator("languages", mode="before")
    @classmethod
    def _lower_languages(cls, value: object) -> object:
        if isinstance(value, list):
            return [item.strip().lower() if isinstance(item, str) else item for item in value]
        return value

    def spec(self) -> WatchlistSpec:
        return WatchlistSpec(
            self.name, self.terms, self.exclude, self.query, self.feeds, self.stem, self.languages
        )


class AliasSettings(Section):
    """One [[alias]]: a name (used as @name in terms and queries) for the forms a thing is written in."""

    name: Name
    forms: tuple[Text, ...]

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            raise _problem(f"alias names are letters, digits, '-' and '_' (got {value!r})")
        return value


class NotifierSettings(Section):
    """One [[notifier]]: where alerts go (apprise URLs) and when."""

    name: Name
    urls: tuple[str, ...] = ()
    mode: Mode = "immediate"
    schedule: str | None = None
    timezone: str = "UTC"
    max_per_hour: PerHour | None = None
    quiet_hours: Annotated[QuietHours | None, BeforeValidator(_quiet_hours_input)] = None
    send_empty: StrictBool = False
    template: Path | None = None
    snippets: SnippetCount = SNIPPETS  # at most this many snippets per article in an alert

    @property
    def logs_only(self) -> bool:
        """The console notifier, or one without URLs, writes alerts to the log."""
        return self.name == "console" or not self.urls

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
    from croniter import croniter  # only a config with schedules pays for it

    if not croniter.is_valid(value):
        raise _problem(f'bad cron schedule {value!r} (use e.g. "0 8 * * *" for 08:00 every day)')
    return value


class Settings(BaseModel):
    """The whole validated config file. Build it with ``load_settings``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    monitor: MonitorSettings
    feeds: tuple[FeedSettings, ...] = ()
    pages: tuple[PageSettings, ...] = ()
    watchlists: tuple[WatchlistSettings, ...] = ()
    notifiers: tuple[NotifierSettings, ...] = ()
    aliases: tuple[AliasSettings, ...] = ()
    web: WebSettings = Field(default_factory=WebSettings)
    resolved_aliases: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)  # nested ones expanded
    warnings: tuple[str, ...] = ()
    fingerprint: str = ""  # of the file's values (``config.fingerprint``): what `monitor status` compares
    _locator: LineLocator = PrivateAttr(default_factory=lambda: LineLocator(""))

    def watchlist_specs(self) -> list[WatchlistSpec]:
        """The watchlists for the matcher, with each ``tag:NAME`` in ``feeds`` replaced by the feeds tagged so."""
        specs = [watchlist.spec() for watchlist in self.watchlists]
        return [
            spec if spec.feeds is None else dataclasses.replace(spec, feeds=self.feed_names(spec.feeds))
            for spec in specs
        ]

    def feed_names(self, names: Iterable[str]) -> tuple[str, ...]:
        """Feed names, with each ``tag:NAME`` expanded to the feeds that carry that tag (in config order)."""
        found: list[str] = []
        for name in names:
            tag = name.removeprefix(TAG_PREFIX) if name.startswith(TAG_PREFIX) else None
            sources: list[FeedSettings | PageSettings] = [*self.feeds, *self.pages]
            found += [f.name for f in sources if tag in f.tags] if tag is not None else [name]
        return tuple(dict.fromkeys(found))

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
