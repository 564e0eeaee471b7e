"""Delivery with several daemons on one PostgreSQL database: each deliverer below has its own engine and owner, as
a daemon in its own process would, and they run side by side at the same moments. One digest per firing, one
message per group, one hourly count between them; the claim is a row in the database."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

import pytest

from monitor.notify.deliver import Deliverer, SendReport
from monitor.notify.policy import Policy
from monitor.store import Outbox, Store
from tests.helpers import ALL_TITLES, T0, WebhookServer, add_hit, titles

pytestmark = pytest.mark.timeout(120)


def daemons(pg_url: str, policy: Policy, count: int = 3) -> list[Deliverer]:
    return [
        Deliverer(
            Outbox(Store.open(pg_url).engine, owner=f"host{i}:{1000 + i}:1"),
            {policy.notifier: policy},
            {},
            group_window=5.0,
            timeout=5.0,
            rng=random.Random(i),
        )
        for i in range(count)
    ]


def side_by_side(deliverers: list[Deliverer], at: datetime) -> list[SendReport]:
    """The worst interleaving of daemons in their own processes: every one reads the outbox and decides before
    any of them acts, then each carries its plans out."""
    plans = [d.plan(at) for d in deliverers]
    return [
        report for d, p in zip(deliverers, plans, strict=True) for report in asyncio.run(d.carry_out(p, at))
    ]


def test_one_digest_per_firing_across_daemons(pg_url: str, webhook_server: WebhookServer) -> None:
    store = Store.open(pg_url)
    policy = Policy("chat", (webhook_server.apprise_url(),), mode="digest", schedule="0 8 * * *")
    three = daemons(pg_url, policy)
    add_hit(store, "Story A", T0 + timedelta(minutes=10))
    assert side_by_side(three, T0 + timedelta(minutes=30)) == []  # the schedule starts; nothing fires
    add_hit(store, "Story B", T0 + timedelta(hours=1))
    reports = side_by_side(three, T0 + timedelta(hours=2, seconds=1))  # 08:00:01, all three at once
    assert [(r.digest, r.hits, r.ok) for r in reports] == [(True, 2, True)]
    assert titles(webhook_server) == [["Story A", "Story B"]]
    assert side_by_side(three, T0 + timedelta(hours=2, seconds=2)) == []  # the firing is spent


def test_a_digest_planned_before_another_daemon_fired_it_is_not_sent_again(
    pg_url: str, webhook_server: WebhookServer
) -> None:
    store = Store.open(pg_url)
    policy = Policy(
        "chat", (webhook_server.apprise_url(),), mode="digest", schedule="0 8 * * *", send_empty=True
    )
    first, late = daemons(pg_url, policy, 2)
    first.outbox.set_last_digest("chat", T0)
    add_hit(store, "Story A", T0 + timedelta(minutes=5))
    firing = T0 + timedelta(hours=2, seconds=1)
    # The late daemon reads the outbox and decides before the first one fires...
    [stale] = late.plan(firing)
    assert stale.scheduled and stale.send
    assert [r.hits for r in asyncio.run(first.deliver_due(firing))] == [1]
    # ...and carries its plan out after: the mark moved, so it sends nothing (not even an empty digest).
    assert asyncio.run(late.carry_out([stale], firing)) == []
    assert len(webhook_server.posts) == 1


def test_max_per_hour_is_one_count_across_daemons(pg_url: str, webhook_server: WebhookServer) -> None:
    store = Store.open(pg_url)
    three = daemons(pg_url, Policy("chat", (webhook_server.apprise_url(),), max_per_hour=2))
    for minute, title in enumerate(ALL_TITLES[:5]):
        add_hit(store, title, T0 + timedelta(minutes=minute))
        side_by_side(three, T0 + timedelta(minutes=minute, seconds=10))
    assert titles(webhook_server) == [["Story A"], ["Story B"]]  # two in the hour, whoever sent them
    side_by_side(three, T0 + timedelta(hours=1, minutes=2))
    assert titles(webhook_server)[2:] == [["Story C", "Story D", "Story E"]]  # held, not lost, sent once


def test_the_hourly_cap_holds_when_daemons_planned_on_different_readings(
    pg_url: str, webhook_server: WebhookServer
) -> None:
    store = Store.open(pg_url)
    first, second = daemons(pg_url, Policy("chat", (webhook_server.apprise_url(),), max_per_hour=2), 2)
    add_hit(store, "Story A", T0)
    assert [r.hits for r in asyncio.run(first.deliver_due(T0 + timedelta(seconds=10)))] == [1]  # 1 of 2
    add_hit(store, "Story B", T0 + timedelta(minutes=1))
    at = T0 + timedelta(minutes=1, seconds=10)
    early = first.plan(at)  # reads B
    add_hit(store, "Story C", T0 + timedelta(minutes=1, seconds=1))
    late = second.plan(at)  # reads B and C; both readings say one message is left in the hour
    assert asyncio.run(first.carry_out(early, at))[0].hits == 1
    assert asyncio.run(second.carry_out(late, at)) == []  # the cap is used up: C waits
    assert titles(webhook_server) == [["Story A"], ["Story B"]]
    side_by_side([first, second], T0 + timedelta(hours=1, minutes=2))
    assert titles(webhook_server)[2:] == [["Story C"]]


def test_a_group_is_one_message_whichever_daemon_sends_it(pg_url: str, webhook_server: WebhookServer) -> None:
    store = Store.open(pg_url)
    three = daemons(pg_url, Policy("chat", (webhook_server.apprise_url(),)))
    for second, title in enumerate(ALL_TITLES[:3]):
        add_hit(store, title, T0 + timedelta(seconds=second))
    assert side_by_side(three, T0 + timedelta(seconds=3)) == []  # the grouping window is still open
    reports = side_by_side(three, T0 + timedelta(seconds=6))
    assert [r.hits for r in reports] == [3]
    assert titles(webhook_server) == [["Story A", "Story B", "Story C"]]


def test_a_notifier_claim_is_held_by_one_sender_until_released_or_expired(pg_url: str) -> None:
    a, b = (Outbox(Store.open(pg_url).engine, owner=name) for name in ("a:1:1", "b:2:2"))
    until = T0 + timedelta(minutes=1)
    assert a.claim_sending("chat", T0, until)
    assert not b.claim_sending("chat", T0 + timedelta(seconds=59), until)
    assert b.claim_sending("chat", T0 + timedelta(seconds=61), T0 + timedelta(minutes=2))  # a's claim ran out
    b.release_sending("chat")
    a.release_sending("chat")  # no longer a's: changes nothing
    assert a.claim_sending("chat", T0 + timedelta(seconds=62), T0 + timedelta(minutes=3))
