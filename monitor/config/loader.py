"""Reading the config file: TOML -> ``Settings``, with every mistake reported as ``path:line: message``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from monitor import redact
from monitor.config.fingerprint import config_fingerprint
from monitor.config.settings import (
    TAG_PREFIX,
    AliasSettings,
    FeedSettings,
    MonitorSettings,
    NotifierSettings,
    PageSettings,
    Settings,
    WatchlistSettings,
    describe_value,
)
from monitor.config.source import KeyPath, LineLocator, expand_tree, read_toml
from monitor.config.units import format_duration
from monitor.config.web_settings import WebSettings, exposure_problem
from monitor.errors import ConfigError, QueryError
from monitor.match.aliases import AliasError, resolve_aliases
from monitor.match.language import known_languages
from monitor.models import WatchlistSpec

# --- loading ------------------------------------------------------------------------------------------------

_TABLES = ("monitor", "feed", "page", "watchlist", "notifier", "alias")
_SINGLE_TABLES = ("monitor", "web")
_VALID_TABLES = "[monitor], [web], [[feed]], [[page]], [[watchlist]], [[notifier]], [[alias]]"
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


QueryCheck = Callable[[WatchlistSpec, Mapping[str, tuple[str, ...]]], object]


def load_settings(
    path: Path, env: Mapping[str, str] = os.environ, *, check_query: QueryCheck | None = None
) -> Settings:
    """Read and validate the config file at ``path``; ``${VAR}`` references expand from ``env``.
    ``check_query(spec)`` raises QueryError for a watchlist whose query or terms do not parse (the matcher
    compiles them; it is passed in so that query errors are reported with every other problem).

    Raises ConfigError listing every problem as ``path:line: message``, in file order."""
    text, data = read_toml(path)
    return _Loader(path, LineLocator(text), env, check_query).load(data)


def _label(kind: str, index: int | None, raw: object) -> str:
    if index is None:
        return f"[{kind}]"
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"[[{kind}]] #{index + 1}" + (f' "{name}"' if isinstance(name, str) else "")


def _key_label(loc: tuple[int | str, ...]) -> str:
    return " ".join(str(part) if isinstance(part, str) else f"item {part + 1}" for part in loc)


class _Loader:
    """One load: collects problems with their lines instead of stopping at the first."""

    def __init__(
        self, path: Path, locator: LineLocator, env: Mapping[str, str], check_query: QueryCheck | None = None
    ) -> None:
        self.check_query = check_query
        self.path = path
        self.base = Path(path).resolve().parent
        self.locator = locator
        self.env = env
        self.problems: list[tuple[int, str]] = []

    def report(self, key_path: KeyPath, message: str) -> None:
        self.problems.append((self.locator.line_of(*key_path) or 0, message))

    def load(self, raw: dict[str, Any]) -> Settings:
        expansion_problems: list[tuple[KeyPath, str]] = []
        substituted: set[str] = set()
        data = expand_tree(raw, self.env, (), expansion_problems, substituted)
        redact.remember(*substituted)  # before validation, whose messages may quote them
        for key_path, message in expansion_problems:
            self.report(key_path, message)
        tables = self._split_tables(data)
        monitor = self._validate(MonitorSettings, "monitor", None, tables["monitor"][0]) or MonitorSettings()
        feed_defaults = {"interval": monitor.interval, "fulltext": monitor.fulltext}
        feeds = self._validate_all(FeedSettings, "feed", tables["feed"], feed_defaults)
        pages = self._validate_all(PageSettings, "page", tables["page"], feed_defaults)
        notifiers = self._validate_all(NotifierSettings, "notifier", tables["notifier"])
        watchlists = self._validate_all(WatchlistSettings, "watchlist", tables["watchlist"])
        aliases = self._validate_all(AliasSettings, "alias", tables["alias"])
        web = self._validate(WebSettings, "web", None, tables["web"][0]) or WebSettings()
        if web.listen is not None and (problem := exposure_problem(web.listen, web.token)):
            self.report(("web", "listen"), f"[web] listen: {problem}")
        for kind in ("feed", "notifier", "watchlist", "alias"):
            self._check_unique_names(kind, tables[kind])
        self._check_page_names(tables)
        self._check_notifiers(notifiers)
        self._check_health_notify(monitor, tables["notifier"])
        self._check_lease(monitor)
        self._check_watchlists(watchlists, tables, notifiers)
        resolved = self._resolve_aliases(aliases)
        # When an alias is wrong (reported at that alias), the queries are checked with each alias standing for
        # its own name, so that a query naming it is not also said to name an unknown alias.
        defined = {alias.name: (alias.name,) for alias in aliases.values()}
        self._check_queries(watchlists, resolved if len(resolved) == len(defined) else defined)
        if self.problems:
            ordered = sorted(self.problems, key=lambda problem: problem[0])
            raise ConfigError([self._format(line, message) for line, message in ordered])
        settings = Settings(
            path=Path(self.path),
            fingerprint=config_fingerprint(data),
            monitor=monitor,
            feeds=tuple(feeds.values()),
            pages=tuple(pages.values()),
            watchlists=tuple(watchlists.values()),
            notifiers=tuple(notifiers.values()),
            aliases=tuple(aliases.values()),
            web=web,
            resolved_aliases=resolved,
            warnings=tuple(_warnings(list(feeds.values()), list(watchlists.values()))),
        )
        settings._locator = self.locator
        redact.remember_password(monitor.database)
        if web.token:
            redact.remember(web.token)
        for notifier in notifiers.values():
            for url in notifier.urls:
                redact.remember_url(url)
        return settings

    def _format(self, line: int, message: str) -> str:
        return f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}"

    def _split_tables(self, data: dict[str, Any]) -> dict[str, list[Any]]:
        """The raw tables by kind; a misplaced or unknown top-level entry is reported and left out."""
        tables: dict[str, list[Any]] = {
            "monitor": [{}],
            "web": [{}],
            "feed": [],
            "page": [],
            "watchlist": [],
            "notifier": [],
            "alias": [],
        }
        for key, value in data.items():
            if key in _SINGLE_TABLES:
                if isinstance(value, dict):
                    tables[key] = [value]
                else:
                    self.report((key,), f"[{key}] must be a table: write [{key}] on a line of its own")
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

    def _check_page_names(self, tables: dict[str, list[Any]]) -> None:
        """Pages and feeds share one namespace: watchlists, articles and the store name them alike."""
        feed_lines = {name: self.locator.line_of("feed", i) for i, name in enumerate(_names(tables["feed"]))}
        self._check_unique_names("page", tables["page"])
        for index, raw in enumerate(tables["page"]):
            name = raw.get("name")
            if isinstance(name, str) and name in feed_lines:
                self.report(
                    ("page", index, "name"),
                    f"{_label('page', index, raw)}: a [[feed]] at line {feed_lines[name]} has the same name",
                )

    def _check_health_notify(self, monitor: MonitorSettings, notifiers: list[Any]) -> None:
        defined = _names(notifiers)
        for name in monitor.health_notify:
            if name not in defined:
                known = ", ".join(defined) or "none"
                self.report(
                    ("monitor", "health_notify"),
                    f"[monitor] health_notify names unknown notifier '{name}' (defined: {known})",
                )

    def _check_lease(self, monitor: MonitorSettings) -> None:
        """A lease must outlast a fetch: a lease that runs out during a poll lets another daemon take the feed."""
        if monitor.lease < monitor.timeout:
            key = "lease" if ("monitor", "lease") in self.locator.lines else "timeout"
            self.report(
                ("monitor", key),
                f"[monitor] lease = {format_duration(monitor.lease)} is shorter than timeout = "
                f"{format_duration(monitor.timeout)}: a feed's lease must outlast its fetch "
                "(make lease longer or timeout shorter)",
            )

    def _check_notifiers(self, notifiers: dict[int, NotifierSettings]) -> None:
        for index, notifier in notifiers.items():
            if notifier.mode == "digest" and notifier.schedule is None:
                self.report(
                    ("notifier", index, "mode"),
                    f'[[notifier]] "{notifier.name}": mode = "digest" needs a schedule, e.g. "0 8 * * *"',
                )

    def _resolve_aliases(self, aliases: dict[int, AliasSettings]) -> dict[str, tuple[str, ...]]:
        """The aliases with nested ones expanded; a cycle, an unknown @name or an empty alias is reported at
        the alias it concerns."""
        defined = {alias.name: alias.forms for alias in aliases.values()}
        index_of = {alias.name: index for index, alias in aliases.items()}
        try:
            return dict(resolve_aliases(defined))
        except AliasError as error:
            self.report(("alias", index_of[error.name], "forms"), f'[[alias]] "{error.name}": {error}')
            return {}

    def _check_watchlists(
        self,
        watchlists: dict[int, WatchlistSettings],
        tables: dict[str, list[Any]],
        notifiers: dict[int, NotifierSettings],
    ) -> None:
        # Names come from the raw tables so that an invalid feed or notifier, already reported, is not also
        # reported as unknown here.
        defined = {kind: list(dict.fromkeys(_names(tables[kind]))) for kind in ("feed", "notifier")}
        defined["feed"] += _names(tables["page"])
        tags = {tag for raw in [*tables["feed"], *tables["page"]] for tag in _tags(raw)}
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
                    if kind == "feed" and name.startswith(TAG_PREFIX):
                        if name.removeprefix(TAG_PREFIX) not in tags:
                            known_tags = ", ".join(sorted(tags)) or "none"
                            self.report(
                                ("watchlist", index, key),
                                f"{label}: feeds names '{name}' but no feed has that tag (tags: {known_tags})",
                            )
                    elif name not in defined[kind]:
                        known = ", ".join(defined[kind]) or "none"
                        self.report(
                            ("watchlist", index, key),
                            f"{label}: {key} names unknown {kind} '{name}' (defined: {known})",
                        )
            for code in watchlist.languages or ():
                if code not in known_languages():
                    self.report(
                        ("watchlist", index, "languages"),
                        f"{label}: unknown language code '{code}' (use ISO 639-1 codes such as en, fr, tr)",
                    )
            if watchlist.languages == ():
                self.report(
                    ("watchlist", index, "languages"),
                    f"{label}: languages is empty; leave it out to watch every language",
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

    def _check_queries(
        self, watchlists: dict[int, WatchlistSettings], aliases: Mapping[str, tuple[str, ...]]
    ) -> None:
        if self.check_query is None:
            return
        reported = {line for line, _ in self.problems}
        for index, watchlist in watchlists.items():
            try:
                self.check_query(watchlist.spec(), aliases)
            except QueryError as error:
                key = "query" if watchlist.query is not None and error.query == watchlist.query else "terms"
                if self.locator.line_of("watchlist", index, key) in reported:
                    continue  # already explained there (an unknown @alias, say)
                caret = f"\n    {error.query}\n    {' ' * error.position}^"
                self.report(("watchlist", index, key), f"[[watchlist]] {error}{caret}")


_S = TypeVar("_S", bound=BaseModel)


def _tags(raw: Any) -> list[str]:
    tags = raw.get("tags") if isinstance(raw, dict) else None
    return [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []


def _names(raws: list[Any]) -> list[str]:
    return [raw["name"] for raw in raws if isinstance(raw.get("name"), str)]


def _explain(
    kind: str, loc: tuple[int | str, ...], detail: Any, model: type[BaseModel]
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
        got = repr(detail["input"]) if isinstance(detail["input"], str) else describe_value(detail["input"])
        return loc[:1], f" {key}: expected {detail['ctx']['expected']}, got {got}"
    if kind in _EXPECTED:
        return loc[:1], f" {key}: {_EXPECTED[kind]}, got {describe_value(detail['input'])}"
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
