"""How each notifier sends: its mode, schedule, time zone, hourly cap and quiet hours, and the watchlists that
ask one notifier for a different mode."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

from monitor.models import Delivery

SNIPPETS = 3  # snippets an alert shows per article, unless its notifier sets ``snippets``


@dataclass(frozen=True, slots=True)
class Policy:
    """How one notifier sends one group of hits."""

    notifier: str
    urls: tuple[str, ...]
    mode: str = "immediate"  # or "digest"
    schedule: str | None = None
    timezone: str = "UTC"
    max_per_hour: int | None = None
    quiet_hours: tuple[time, time] | None = None  # (start, end) in the notifier's time zone
    send_empty: bool = False
    template: str | None = None
    snippets: int = SNIPPETS  # at most this many per article

    @property
    def console(self) -> bool:
        return self.notifier == "console" or not self.urls

    @property
    def digest(self) -> bool:
        return self.mode == "digest"


@dataclass(frozen=True, slots=True)
class Policies:
    """Every notifier's policy by name, and the watchlists' own modes: (notifier, watchlist) -> policy."""

    by_notifier: Mapping[str, Policy]
    overrides: Mapping[tuple[str, str], Policy] = field(default_factory=dict)

    def for_delivery(self, delivery: Delivery) -> tuple[Policy, str]:
        """The policy a delivery is sent under, and the key of the group (and digest schedule) it joins."""
        override = self.overrides.get((delivery.notifier, delivery.hit.watchlist))
        if override:
            return override, f"{delivery.notifier}/{delivery.hit.watchlist}"
        return self.by_notifier[delivery.notifier], delivery.notifier

    def digests(self) -> list[tuple[str, Policy]]:
        """Each digest schedule's key and policy: digest notifiers, and watchlists asking for a digest."""
        keys = [(name, p) for name, p in self.by_notifier.items() if p.digest]
        keys += [(f"{n}/{w}", p) for (n, w), p in self.overrides.items() if p.digest]
        return keys

    def capped(self) -> list[Policy]:
        """The notifiers with an hourly message cap."""
        return [p for p in self.by_notifier.values() if p.max_per_hour is not None]
