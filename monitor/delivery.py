"""Sending what the outbox owes: group due deliveries per notifier, apply modes, send, record each result.

A delivery is marked sent only after its send succeeded, so a crash in between can at worst repeat one
message, never lose it. Rows are claimed before sending, so two processes never send the same alert.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.models import Delivery
from monitor.notify import Message, log_message, render_message, send_message
from monitor.notify.timing import next_digest, quiet_until, retry_delay
from monitor.store.outbox import DeliveryOutcome, Outbox

log = logging.getLogger("monitor.deliver")


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
    snippets: int = 3  # at most this many per article

    @property
    def console(self) -> bool:
        return self.notifier == "console" or not self.urls


@dataclass(frozen=True, slots=True)
class SendReport:
    notifier: str
    hits: int
    ok: bool
    digest: bool = False
    error: str | None = None


@dataclass(slots=True)
class Deliverer:
    outbox: Outbox
    policies: Mapping[str, Policy]  # by notifier name
    overrides: Mapping[tuple[str, str], Policy]  # (notifier, watchlist) -> the watchlist's own mode
    retry_for: float = 24 * 3600.0
    group_window: float = 5.0
    timeout: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    async def deliver_due(self, now: datetime, *, flush: bool = False) -> list[SendReport]:
        """Send every group that is due now. ``flush`` skips the grouping window (a one-off poll)."""
        groups: dict[tuple[Policy, str, tuple[int, ...]], list[Delivery]] = defaultdict(list)
        for delivery in self.outbox.due(now, self.policies):
            policy, key = self._policy_for(delivery)
            groups[(policy, key, delivery.sent_targets)].append(delivery)
        for key, policy in self._digest_keys():
            groups.setdefault((policy, key, ()), [])
        reports = []
        for (policy, key, sent_targets), items in groups.items():
            report = await self._deliver_group(policy, key, items, set(sent_targets), now, flush)
            if report:
                reports.append(report)
        return reports

    def _policy_for(self, delivery: Delivery) -> tuple[Policy, str]:
        override = self.overrides.get((delivery.notifier, delivery.hit.watchlist))
        if override:
            return override, f"{delivery.notifier}/{delivery.hit.watchlist}"
        return self.policies[delivery.notifier], delivery.notifier

    def _digest_keys(self) -> list[tuple[str, Policy]]:
        keys = [(name, p) for name, p in self.policies.items() if p.mode == "digest"]
        keys += [(f"{n}/{w}", p) for (n, w), p in self.overrides.items() if p.mode == "digest"]
        return keys

    async def _deliver_group(
        self,
        policy: Policy,
        key: str,
        items: list[Delivery],
        sent_targets: set[int],
        now: datetime,
        flush: bool,
    ) -> SendReport | None:
        digest = policy.mode == "digest"
        scheduled = digest and self._digest_due(policy, key, items, now)
        if digest and not scheduled:
            # Between firings only a digest whose send failed goes out, on its own retry schedule.
            items = [d for d in items if d.attempts]
            if not items:
                return None
        elif scheduled and not items and not policy.send_empty:
            self.outbox.set_last_digest(key, now)
            return None
        elif not digest and not self._immediate_due(policy, items, now, flush):
            return None
        claimed = self.outbox.claim(
            [d.id for d in items], now, now + timedelta(seconds=self.timeout * 4 + 60)
        )
        items = [d for d in items if d.id in claimed]
        if not items and not digest:
            return None
        report = await self._send(policy, items, sent_targets, now, digest)
        if scheduled and report.ok:
            self.outbox.set_last_digest(key, now)
        return report

    def _digest_due(self, policy: Policy, key: str, items: Sequence[Delivery], now: datetime) -> bool:
        last = self.outbox.last_digest(key)
        if last is None:
            # The schedule starts with the first thing owed (or now): the first digest goes out at the next firing.
            last = min((d.created_at for d in items if d.created_at), default=now)
            self.outbox.set_last_digest(key, last)
        assert policy.schedule, "a digest notifier has a schedule (config validation)"
        return next_digest(policy.schedule, ZoneInfo(policy.timezone), last) <= now

    def _immediate_due(self, policy: Policy, items: Sequence[Delivery], now: datetime, flush: bool) -> bool:
        if not items:
            return False
        if quiet_until(now, policy.quiet_hours, ZoneInfo(policy.timezone)):
            return False
        if policy.max_per_hour is not None:
            sent = self.outbox.messages_sent_since(policy.notifier, now - timedelta(hours=1))
            if sent >= policy.max_per_hour:
                return False  # held, not dropped: everything goes out in one message once the hour frees up
        if flush or any(d.attempts for d in items):
            return True
        oldest = min(d.created_at or now for d in items)
        return oldest + timedelta(seconds=self.group_window) <= now

    async def _send(
        self, policy: Policy, items: list[Delivery], sent_targets: set[int], now: datetime, digest: bool
    ) -> SendReport:
        hits = sorted((d.hit for d in items), key=lambda h: h.published, reverse=True)
        template = None if policy.template is None else Path(policy.template)
        message: Message = render_message(
            policy.notifier,
            hits,
            digest=digest,
            template=template,
            now=now,
            timezone=policy.timezone,
            max_snippets=policy.snippets,
        )
        if policy.console:
            log_message(log, policy.notifier, message)
            self.outbox.record([DeliveryOutcome(d.id, sent=True) for d in items], now)
            return SendReport(policy.notifier, len(items), ok=True, digest=digest)
        results = await send_message(policy.urls, message, skip=sent_targets, timeout=self.timeout)
        delivered = sent_targets | {r.index for r in results if r.ok}
        errors = "; ".join(f"{r.target}: {r.error or 'failed'}" for r in results if not r.ok)
        ok = len(delivered) >= len(policy.urls)
        outcomes = [self._outcome(d, ok, delivered, errors, now) for d in items]
        self.outbox.record(outcomes, now)
        if ok:
            log.info("sent notifier=%s hits=%d%s", policy.notifier, len(items), " (digest)" if digest else "")
        else:
            dead = sum(o.dead for o in outcomes)
            log.warning(
                "send failed notifier=%s hits=%d error=%s%s",
                policy.notifier,
                len(items),
                errors,
                f" ({dead} gave up after {self.retry_for / 3600:g}h: dead)" if dead else "",
            )
        return SendReport(policy.notifier, len(items), ok=ok, digest=digest, error=errors or None)

    def _outcome(
        self, delivery: Delivery, ok: bool, delivered: set[int], error: str, now: datetime
    ) -> DeliveryOutcome:
        if ok:
            return DeliveryOutcome(delivery.id, sent=True, sent_targets=tuple(delivered))
        created = delivery.created_at or now
        next_attempt = now + timedelta(seconds=retry_delay(delivery.attempts + 1, self.rng))
        dead = next_attempt - created > timedelta(seconds=self.retry_for)
        return DeliveryOutcome(
            delivery.id,
            sent=False,
            sent_targets=tuple(delivered),
            error=error,
            next_attempt=next_attempt,
            dead=dead,
        )
