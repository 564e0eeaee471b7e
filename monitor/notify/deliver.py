"""Sending what the outbox owes: plan the sends (``plan.py``), then claim, send and record each one.

A delivery is marked sent only after its send succeeded, so a crash in between can at worst repeat one
message, never lose it. Rows are claimed before sending, so two processes never send the same alert.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from monitor.models import Delivery, DeliveryOutcome
from monitor.notify.console import log_message
from monitor.notify.plan import SendPlan, plan_sends
from monitor.notify.policy import Policies, Policy
from monitor.notify.render import Message, render_message
from monitor.notify.send import send_message
from monitor.notify.timing import flood_held, gives_up, retry_delay

log = logging.getLogger("monitor.deliver")


class Outbox(Protocol):
    """What the deliverer reads and writes in the store's outbox (``monitor.store.Outbox``)."""

    def due(self, now: datetime, notifiers: Iterable[str] | None = None) -> list[Delivery]: ...
    def claim(self, ids: Sequence[int], now: datetime, until: datetime) -> set[int]: ...
    def record(self, outcomes: Sequence[DeliveryOutcome], now: datetime) -> None: ...
    def messages_sent_since(self, notifier: str, since: datetime) -> int: ...
    def last_digest(self, key: str) -> datetime | None: ...
    def set_last_digest(self, key: str, at: datetime) -> None: ...
    def claim_sending(self, notifier: str, now: datetime, until: datetime) -> bool: ...
    def release_sending(self, notifier: str) -> None: ...


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
        return await self.carry_out(self.plan(now, flush=flush), now)

    def plan(self, now: datetime, *, flush: bool = False) -> list[SendPlan]:
        """What is due now, read from the outbox. Another daemon may act on the same reading before this one
        carries its plans out: ``carry_out`` checks again under the notifier's claim."""
        policies = Policies(self.policies, self.overrides)
        due = self.outbox.due(now, self.policies)
        marks = {key: mark for key, _ in policies.digests() if (mark := self.outbox.last_digest(key))}
        since = now - timedelta(hours=1)
        sent = {p.notifier: self.outbox.messages_sent_since(p.notifier, since) for p in policies.capped()}
        return plan_sends(due, policies, marks, sent, now, group_window=self.group_window, flush=flush)

    async def carry_out(self, plans: Sequence[SendPlan], now: datetime) -> list[SendReport]:
        reports = []
        for plan in plans:
            report = await self._carry_out(plan, now)
            if report:
                reports.append(report)
        return reports

    async def _carry_out(self, plan: SendPlan, now: datetime) -> SendReport | None:
        """Carry a plan out while holding its notifier in the database: daemons sharing the database each plan
        from what they read, and the one that gets the notifier first acts; the others find, once they hold
        it, that the digest already fired or the hour's cap is used up, and leave it."""
        notifier = plan.policy.notifier
        if not self.outbox.claim_sending(notifier, now, now + timedelta(seconds=self.timeout * 4 + 60)):
            return None  # another daemon is sending for it: what is left is planned again at the next run
        try:
            if not self._still_planned(plan, now):
                return None
            return await self._apply(plan, now)
        finally:
            self.outbox.release_sending(notifier)

    def _still_planned(self, plan: SendPlan, now: datetime) -> bool:
        """What the plan was decided on still holds now that this daemon holds the notifier."""
        if plan.digest and (plan.scheduled or plan.start_mark):
            current = self.outbox.last_digest(plan.key)
            if current != plan.mark:
                return False  # another daemon started the schedule or fired this digest
        if plan.send and not plan.digest and plan.policy.max_per_hour is not None:
            sent = self.outbox.messages_sent_since(plan.policy.notifier, now - timedelta(hours=1))
            return not flood_held(sent, plan.policy.max_per_hour)
        return True

    async def _apply(self, plan: SendPlan, now: datetime) -> SendReport | None:
        if plan.start_mark:
            self.outbox.set_last_digest(plan.key, plan.start_mark)
        if not plan.send:
            if plan.scheduled:
                self.outbox.set_last_digest(plan.key, now)
            return None
        claimed = self.outbox.claim(
            [d.id for d in plan.deliveries], now, now + timedelta(seconds=self.timeout * 4 + 60)
        )
        items = [d for d in plan.deliveries if d.id in claimed]
        if not items and not plan.digest:
            return None
        report = await self._send(plan.policy, items, set(plan.sent_targets), now, plan.digest)
        if plan.scheduled and report.ok:
            self.outbox.set_last_digest(plan.key, now)
        return report

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
        next_attempt = now + timedelta(seconds=retry_delay(delivery.attempts + 1, self.rng))
        return DeliveryOutcome(
            delivery.id,
            sent=False,
            sent_targets=tuple(delivered),
            error=error,
            next_attempt=next_attempt,
            dead=gives_up(delivery.created_at or now, next_attempt, self.retry_for),
        )
