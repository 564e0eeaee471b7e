"""A valid config file, compiled: the settings, the watchlists' matcher, the feeds' poll jobs and the notifiers'
sending policies. A query error becomes a ``path:line`` config error here."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.config.loader import load_settings
from monitor.config.settings import NotifierSettings, Settings
from monitor.match import Matcher, compile_watchlists
from monitor.models import FeedJob, WatchlistSpec

if TYPE_CHECKING:  # the policies are built by the daemon and `poll` only
    from monitor.notify.policy import Policy


@dataclass(frozen=True, slots=True)
class Config:
    """Settings plus the watchlists compiled from them: everything a valid config file yields."""

    settings: Settings
    matcher: Matcher
    _jobs: tuple[FeedJob, ...] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once: the daemon reads them at every poll (300 feeds: 300 new jobs a poll, otherwise).
        jobs = [
            FeedJob(f.name, f.url, f.interval, f.fulltext, f.user_agent, tuple(sorted(f.headers.items())))
            for f in self.settings.feeds
        ] + [
            FeedJob(p.name, p.url, p.interval, p.fulltext and p.mode == "links", None, (), p.mode, p.selector)
            for p in self.settings.pages
        ]
        object.__setattr__(self, "_jobs", tuple(jobs))

    @property
    def jobs(self) -> list[FeedJob]:
        return list(self._jobs)

    @property
    def sources(self) -> dict[str, str]:
        """Each feed's and page's URL by name, as the store's feed rows take them (``Store.sync_feeds``)."""
        return {job.name: job.url for job in self._jobs}

    @property
    def routes(self) -> dict[str, tuple[str, ...]]:
        return {w.name: w.notify for w in self.settings.watchlists}


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, validate and compile the config file; every mistake comes back as a ConfigError with file:line."""
    check = _compile_one
    settings = (
        load_settings(path, check_query=check) if env is None else load_settings(path, env, check_query=check)
    )
    return Config(settings, compile_matcher(settings))


def _compile_one(spec: WatchlistSpec, aliases: Mapping[str, tuple[str, ...]]) -> Matcher:
    return compile_watchlists([spec], aliases)


def compile_matcher(settings: Settings) -> Matcher:
    """Every watchlist compiled together. Each was compiled alone while the settings were checked (``load_config``:
    a query or term that does not parse is a ConfigError at its line there), so this finds nothing new to say."""
    return compile_watchlists(settings.watchlist_specs(), settings.resolved_aliases)


def policies(settings: Settings) -> tuple[dict[str, Policy], dict[tuple[str, str], Policy]]:
    """Each notifier's sending policy, and the policies of watchlists that override a notifier's mode."""
    by_name = {n.name: _policy(n) for n in settings.notifiers}
    overrides: dict[tuple[str, str], Policy] = {}
    for watchlist in settings.watchlists:
        if watchlist.mode is None:
            continue
        for name in watchlist.notify:
            base = by_name[name]
            overrides[(name, watchlist.name)] = dataclasses.replace(
                base, mode=watchlist.mode, schedule=watchlist.schedule or base.schedule
            )
    return by_name, overrides


def _policy(notifier: NotifierSettings) -> Policy:
    from monitor.notify.policy import Policy

    quiet = notifier.quiet_hours
    return Policy(
        notifier=notifier.name,
        urls=notifier.urls,
        mode=notifier.mode,
        schedule=notifier.schedule,
        timezone=notifier.timezone,
        max_per_hour=notifier.max_per_hour,
        quiet_hours=(quiet.start, quiet.end) if quiet else None,
        send_empty=notifier.send_empty,
        template=str(notifier.template) if notifier.template else None,
        snippets=notifier.snippets,
    )
