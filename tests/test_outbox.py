"""The outbox's rows on a real SQLite database: when a claim on a delivery or a notifier still holds (a claim
runs until its time, that instant included), who holds it, and the filters of the listings and counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.models import DeliveryOutcome
from monitor.store import Outbox, Store
from tests.helpers import add_hit

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def two_hits(store: Store) -> dict[str, int]:
    """Two hits owed to "chat" and one of them to "mail" too: delivery id by "notifier/title"."""
    add_hit(store, "Drone cameras", NOW - timedelta(minutes=5), notifiers=("chat", "mail"))
    add_hit(store, "Export permits", NOW - timedelta(minutes=4), notifiers=("chat",))
    return {f"{d.notifier}/{d.hit.title}": d.id for d in store.outbox.listing(limit=None)}


def test_a_claimed_delivery_is_held_until_its_time_that_instant_included(store: Store) -> None:
    ids = two_hits(store)
    first = ids["chat/Drone cameras"]
    mine, other = Outbox(store.engine, "desk:1:10"), Outbox(store.engine, "desk:2:20")
    assert mine.claim([first], NOW, NOW + timedelta(minutes=1)) == {first}
    until = NOW + timedelta(minutes=1)
    assert other.claim([first], until, until + timedelta(minutes=1)) == set()  # at its very end: still held
    assert first not in {d.id for d in other.due(until)}
    assert other.held(until) == {"desk:1:10": (1, until)}
    assert mine.held(until) == {}  # its own claims are not another sender's
    assert other.held(until + TICK) == {}
    assert first in {d.id for d in other.due(until + TICK)}
    assert other.claim([first], until + TICK, until + timedelta(minutes=2)) == {first}


def test_a_stale_claim_is_released_once_its_time_has_passed_or_its_holder_is_gone(store: Store) -> None:
    ids = two_hits(store)
    first, second = ids["chat/Drone cameras"], ids["mail/Drone cameras"]
    Outbox(store.engine, "desk:1:10").claim([first], NOW, NOW + timedelta(minutes=1))
    Outbox(store.engine, "desk:2:20").claim([second], NOW, NOW + timedelta(hours=1))
    outbox = store.outbox
    assert outbox.release_stale(NOW + timedelta(minutes=1), lambda owner: False) == {}  # not yet passed
    assert outbox.release_stale(NOW + timedelta(minutes=1) + TICK, lambda owner: False) == {"desk:1:10": 1}
    assert outbox.release_stale(NOW, lambda owner: owner == "desk:2:20") == {"desk:2:20": 1}
    assert outbox.held(NOW) == {}


def test_due_deliveries_are_those_whose_time_has_come(store: Store) -> None:
    ids = two_hits(store)
    first = ids["chat/Drone cameras"]
    outbox = store.outbox
    outbox.record(
        [DeliveryOutcome(first, sent=False, error="503", next_attempt=NOW)], NOW - timedelta(minutes=1)
    )
    assert first in {d.id for d in outbox.due(NOW)}  # its next attempt is now
    assert first not in {d.id for d in outbox.due(NOW - TICK)}
    assert {d.notifier for d in outbox.due(NOW, ["mail"])} == {"mail"}


def test_listings_counts_and_retries_keep_to_the_notifier_asked_for(store: Store) -> None:
    ids = two_hits(store)
    outbox = store.outbox
    assert {d.id for d in outbox.listing(notifier="mail")} == {ids["mail/Drone cameras"]}
    assert {d.notifier for d in outbox.listing(notifier="chat")} == {"chat"}
    dead = [DeliveryOutcome(i, sent=False, error="gone", dead=True) for i in ids.values()]
    outbox.record(dead, NOW)
    assert outbox.counts() == {("chat", "dead"): 2, ("mail", "dead"): 1}
    assert outbox.retry(NOW, notifier="mail") == 1
    assert outbox.counts() == {("chat", "dead"): 2, ("mail", "pending"): 1}
    assert {d.status for d in outbox.listing(status="dead")} == {"dead"}


def test_messages_sent_since_count_from_that_instant(store: Store) -> None:
    ids = two_hits(store)
    outbox = store.outbox
    outbox.record([DeliveryOutcome(ids["chat/Drone cameras"], sent=True)], NOW)
    outbox.record([DeliveryOutcome(ids["chat/Export permits"], sent=True)], NOW + timedelta(minutes=1))
    outbox.record([DeliveryOutcome(ids["mail/Drone cameras"], sent=True)], NOW)
    assert outbox.messages_sent_since("chat", NOW) == 2
    assert outbox.messages_sent_since("chat", NOW + TICK) == 1
    assert outbox.messages_sent_since("mail", NOW) == 1


def test_a_notifier_is_held_for_one_sender_until_its_claim_ends(store: Store) -> None:
    first, second = Outbox(store.engine, "desk:1:10"), Outbox(store.engine, "desk:2:20")
    until = NOW + timedelta(seconds=30)
    assert first.claim_sending("chat", NOW, until)
    assert not second.claim_sending("chat", until, until + timedelta(seconds=30))  # at its end: still held
    assert first.claim_sending("chat", NOW, until)  # its holder may take it again
    assert second.claim_sending("mail", NOW, until)  # another notifier is free
    assert second.claim_sending("chat", until + TICK, until + timedelta(seconds=30))
    second.release_sending("chat")
    first.release_sending("mail")  # not its claim: left alone
    assert not first.claim_sending("mail", NOW, until)
    assert first.claim_sending("chat", NOW, until)


def test_a_notifier_held_by_a_stopped_or_late_sender_is_freed(store: Store) -> None:
    first, second = Outbox(store.engine, "desk:1:10"), Outbox(store.engine, "desk:2:20")
    first.claim_sending("chat", NOW, NOW + timedelta(seconds=30))
    second.claim_sending("mail", NOW, NOW + timedelta(hours=1))
    outbox = store.outbox
    assert outbox.release_stale_sending(NOW + timedelta(seconds=30), lambda owner: False) == []
    assert outbox.release_stale_sending(NOW + timedelta(seconds=30) + TICK, lambda owner: False) == ["chat"]
    assert outbox.release_stale_sending(NOW, lambda owner: owner == "desk:2:20") == ["mail"]
    assert second.claim_sending("chat", NOW, NOW + TICK) and first.claim_sending("mail", NOW, NOW + TICK)


def test_the_last_digest_is_kept_per_key(store: Store) -> None:
    outbox = store.outbox
    assert outbox.last_digest("chat") is None
    outbox.set_last_digest("chat", NOW)
    outbox.set_last_digest("chat", NOW + timedelta(days=1))  # the row is there: updated
    outbox.set_last_digest("mail", NOW)
    assert outbox.last_digest("chat") == NOW + timedelta(days=1)
    assert outbox.last_digest("mail") == NOW
