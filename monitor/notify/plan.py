"""Which groups of alerts go out now: decided from the due deliveries, the policies, the digest marks, the
messages sent in the past hour and ``now``, without reading or writing anything.

The deliverer (``deliver.py``) applies each ``SendPlan``: claim, send, record, move the digest mark.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.models import Delivery
from monitor.notify.policy import Policies, Policy
from monitor.notify.timing import digest_due, flood_held, group_ready, quiet_until


@dataclass(frozen=True, slots=True)
class SendPlan:
    """One message to send (or, for a digest with nothing to say, a schedule to move on)."""

    policy: Policy
    key: str  # the group: a notifier, or notifier/watchlist for a watchlist's own mode; digests' mark key
    deliveries: tuple[Delivery, ...]
    sent_targets: tuple[int, ...] = ()  # targets that already have this group (a partly failed send)
    digest: bool = False
    send: bool = True  # False: nothing goes out; only the digest marks below move
    scheduled: bool = False  # a digest at its firing: its mark moves to now once sent (or if nothing is owed)
    start_mark: datetime | None = None  # a digest schedule seen for the first time starts here
    mark: datetime | None = None  # the digest mark this plan was decided with (another daemon may move it)


def plan_sends(
    due: Sequence[Delivery],
    policies: Policies,
    digest_marks: Mapping[str, datetime],
    sent_last_hour: Mapping[str, int],
    now: datetime,
    *,
    group_window: float,
    flush: bool = False,
) -> list[SendPlan]:
    """What to send now. ``flush`` skips the grouping window (a one-off poll)."""
    groups: dict[tuple[Policy, str, tuple[int, ...]], list[Delivery]] = defaultdict(list)
    for delivery in due:
        policy, key = policies.for_delivery(delivery)
        groups[(policy, key, delivery.sent_targets)].append(delivery)
    for key, policy in policies.digests():
        groups.setdefault((policy, key, ()), [])
    plans: list[SendPlan] = []
    for (policy, key, sent_targets), items in groups.items():
        if policy.digest:
            plan = _digest_plan(policy, key, items, sent_targets, digest_marks.get(key), now)
        else:
            sent = sent_last_hour.get(policy.notifier, 0)
            plan = _immediate_plan(policy, key, items, sent_targets, sent, now, group_window, flush)
        if plan:
            plans.append(plan)
    return plans


def _digest_plan(
    policy: Policy,
    key: str,
    items: list[Delivery],
    sent_targets: tuple[int, ...],
    mark: datetime | None,
    now: datetime,
) -> SendPlan | None:
    start = None
    decided_with = mark
    if mark is None:
        # The schedule starts with the first thing owed (or now): the first digest goes out at the next firing.
        mark = start = min((d.created_at for d in items if d.created_at), default=now)
    assert policy.schedule, "a digest notifier has a schedule (config validation)"
    fires = digest_due(policy.schedule, ZoneInfo(policy.timezone), mark, now)
    if not fires:
        # Between firings only a digest whose send failed goes out, on its own retry schedule.
        retries = tuple(d for d in items if d.attempts)
        if not retries:
            if start is None:
                return None
            return SendPlan(
                policy, key, (), sent_targets, digest=True, send=False, start_mark=start, mark=decided_with
            )
        return SendPlan(policy, key, retries, sent_targets, digest=True, start_mark=start, mark=decided_with)
    if not items and not policy.send_empty:
        return SendPlan(
            policy,
            key,
            (),
            sent_targets,
            digest=True,
            send=False,
            scheduled=True,
            start_mark=start,
            mark=decided_with,
        )
    return SendPlan(
        policy,
        key,
        tuple(items),
        sent_targets,
        digest=True,
        scheduled=True,
        start_mark=start,
        mark=decided_with,
    )


def _immediate_plan(
    policy: Policy,
    key: str,
    items: list[Delivery],
    sent_targets: tuple[int, ...],
    sent_last_hour: int,
    now: datetime,
    group_window: float,
    flush: bool,
) -> SendPlan | None:
    if not items:
        return None
    if quiet_until(now, policy.quiet_hours, ZoneInfo(policy.timezone)):
        return None
    if flood_held(sent_last_hour, policy.max_per_hour):
        return None  # held, not dropped: everything goes out in one message once the hour frees up
    ready = flush or any(d.attempts for d in items)
    if not ready and not group_ready(min(d.created_at or now for d in items), group_window, now):
        return None
    return SendPlan(policy, key, tuple(items), sent_targets)
