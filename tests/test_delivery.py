"""The delivery engine with an injected clock: grouping, digests, flood control, quiet hours, retries, claims.

Real SQLite files and a real local webhook; only the time is handed in.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from monitor.models import Article, Match, Snippet
from monitor.notify.policy import Policy
from monitor.store import Outbox, Store
from tests.helpers import ALL_TITLES, T0, WebhookServer, add_hit, deliver, deliverer, titles


def test_a_burst_within_the_window_is_one_message(store: Store, webhook_server: WebhookServer) -> None:
    d = deliverer(store, Policy("chat", (webhook_server.apprise_url(),)))
    for i, title in enumerate(ALL_TITLES[:3]):
        add_hit(store, title, T0 + timedelta(seconds=i))
    assert deliver(d, T0 + timedelta(seconds=3)) == []  # the oldest is younger than the 5 s window
    [report] = deliver(d, T0 + timedelta(seconds=6))
    assert report.ok and report.hits == 3
    assert titles(webhook_server) == [ALL_TITLES[:3]]
    assert webhook_server.posts[0].json["title"] == "Story C · arms · +2 more"
    assert deliver(d, T0 + timedelta(minutes=5)) == []  # sent once only


def test_digests_over_several_schedules(store: Store, webhook_server: WebhookServer) -> None:
    d = deliverer(store, Policy("chat", (webhook_server.apprise_url(),), mode="digest", schedule="0 8 * * *"))
    add_hit(store, "Story A", T0 + timedelta(hours=1))  # 07:00
    add_hit(store, "Story B", T0 + timedelta(hours=1, minutes=30))
    assert deliver(d, T0 + timedelta(hours=1, minutes=45)) == []  # before 08:00
    [report] = deliver(d, T0 + timedelta(hours=2, seconds=1))  # 08:00:01
    assert report.digest and report.hits == 2
    add_hit(store, "Story C", T0 + timedelta(hours=5))
    assert deliver(d, T0 + timedelta(hours=12)) == []
    deliver(d, T0 + timedelta(days=1, hours=2, seconds=1))  # the next morning
    assert deliver(d, T0 + timedelta(days=2, hours=2, seconds=1)) == []  # empty digests are not sent
    assert titles(webhook_server) == [["Story A", "Story B"], ["Story C"]]  # nothing repeats
    assert "Digest" in webhook_server.posts[0].json["title"]


def test_a_digest_is_sent_at_each_firing_whatever_the_hours_cap(
    store: Store, webhook_server: WebhookServer
) -> None:
    """The hour's cap holds immediate messages back; a digest is already one message at its firing, so a digest
    notifier firing twice within the hour sends both, with or without a cap, also under the notifier's claim."""
    policy = Policy(
        "chat", (webhook_server.apprise_url(),), mode="digest", schedule="0,30 * * * *", max_per_hour=1
    )
    d = deliverer(store, policy)
    add_hit(store, "Story A", T0 + timedelta(minutes=5))
    [first] = deliver(d, T0 + timedelta(minutes=30, seconds=1))
    add_hit(store, "Story B", T0 + timedelta(minutes=40))
    [second] = deliver(d, T0 + timedelta(minutes=60, seconds=1))
    assert first.digest and second.digest
    assert titles(webhook_server) == [["Story A"], ["Story B"]]


def test_an_empty_digest_is_sent_when_asked(store: Store, webhook_server: WebhookServer) -> None:
    policy = Policy(
        "chat", (webhook_server.apprise_url(),), mode="digest", schedule="0 8 * * *", send_empty=True
    )
    d = deliverer(store, policy)
    deliver(d, T0)  # starts the schedule
    [report] = deliver(d, T0 + timedelta(hours=2, seconds=1))
    assert report.ok and report.hits == 0 and len(webhook_server.posts) == 1


def test_a_watchlist_can_ask_for_a_digest_from_an_immediate_notifier(
    store: Store, webhook_server: WebhookServer
) -> None:
    base = Policy("chat", (webhook_server.apprise_url(),))
    digest = Policy("chat", base.urls, mode="digest", schedule="0 8 * * *")
    d = deliverer(store, base, overrides={("chat", "weekly"): digest})
    add_hit(store, "Story A", T0, watchlist="arms")
    add_hit(store, "Story B", T0, watchlist="weekly")
    deliver(d, T0 + timedelta(seconds=10))
    assert titles(webhook_server) == [["Story A"]]
    deliver(d, T0 + timedelta(hours=2, seconds=1))
    assert titles(webhook_server) == [["Story A"], ["Story B"]]


def test_flood_control_holds_hits_and_sends_them_together_later(
    store: Store, webhook_server: WebhookServer
) -> None:
    d = deliverer(store, Policy("chat", (webhook_server.apprise_url(),), max_per_hour=2))
    for minute, title in enumerate(ALL_TITLES[:5]):
        add_hit(store, title, T0 + timedelta(minutes=minute))
        deliver(d, T0 + timedelta(minutes=minute, seconds=10))
    assert titles(webhook_server) == [["Story A"], ["Story B"]]  # the limit is reached; C, D, E wait
    deliver(d, T0 + timedelta(hours=1, minutes=2))
    assert titles(webhook_server)[2:] == [["Story C", "Story D", "Story E"]]  # none dropped


def test_the_plan_reads_the_messages_sent_in_the_last_hour_against_the_cap(
    store: Store, webhook_server: WebhookServer
) -> None:
    """What is planned already respects the hour's cap (the check again under the notifier's claim is for
    another daemon sending in between): one message sent, a cap of one, and nothing more is planned to go
    until that message is an hour old."""
    d = deliverer(store, Policy("chat", (webhook_server.apprise_url(),), max_per_hour=1))
    add_hit(store, "Story A", T0)
    deliver(d, T0 + timedelta(seconds=10))
    add_hit(store, "Story B", T0 + timedelta(minutes=1))
    assert not [plan for plan in d.plan(T0 + timedelta(minutes=2)) if plan.send]
    later = [plan for plan in d.plan(T0 + timedelta(hours=1, seconds=11)) if plan.send]
    assert [[delivery.hit.title for delivery in plan.deliveries] for plan in later] == [["Story B"]]


def test_quiet_hours_hold_alerts_until_they_end(store: Store, webhook_server: WebhookServer) -> None:
    quiet = (time(22, 0), time(7, 0))
    d = deliverer(
        store, Policy("chat", (webhook_server.apprise_url(),), quiet_hours=quiet, timezone="America/Toronto")
    )
    night = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)  # 23:00 in Toronto
    add_hit(store, "Story A", night)
    assert deliver(d, night + timedelta(minutes=10)) == []
    assert deliver(d, datetime(2026, 3, 3, 11, 59, tzinfo=UTC)) == []  # 06:59 in Toronto
    [report] = deliver(d, datetime(2026, 3, 3, 12, 0, 5, tzinfo=UTC))  # 07:00:05 in Toronto
    assert report.ok and titles(webhook_server) == [["Story A"]]


def test_failures_retry_with_backoff_then_die_and_can_be_revived(
    store: Store, webhook_server: WebhookServer
) -> None:
    d = deliverer(store, Policy("chat", (webhook_server.apprise_url(),)), retry_for=600)
    outbox = Outbox(store.engine)
    add_hit(store, "Story A", T0)
    webhook_server.fail_with = 500
    [first] = deliver(d, T0 + timedelta(seconds=10))
    assert not first.ok and first.error
    [failed] = outbox.listing(status="failed")
    assert failed.attempts == 1 and failed.next_attempt is not None
    assert (
        timedelta(seconds=30) <= failed.next_attempt - (T0 + timedelta(seconds=10)) <= timedelta(seconds=36)
    )
    assert deliver(d, T0 + timedelta(seconds=20)) == []  # not due yet
    deliver(d, failed.next_attempt)  # second failure: next try 2 min later
    deliver(d, failed.next_attempt + timedelta(minutes=3))  # third: 10 min later would pass retry_for
    [dead] = outbox.listing(status="dead")
    assert (dead.attempts == 3 and "500" in (dead.last_error or "")) or dead.attempts == 3
    assert deliver(d, T0 + timedelta(hours=2)) == []  # dead deliveries are not retried by themselves

    webhook_server.fail_with = None
    assert outbox.retry(T0 + timedelta(hours=3)) == 1
    [report] = deliver(d, T0 + timedelta(hours=3))
    assert report.ok and titles(webhook_server) == [["Story A"]]


def test_retry_for_is_counted_from_the_deliverys_creation_not_from_its_last_failure(
    store: Store, webhook_server: WebhookServer
) -> None:
    """The waits after the three failures are 30 s, 2 min and 10 min, each with up to a fifth more: the third
    alone (600 to 720 s) stays within 740 s, but its next attempt falls at least 760 s after the hit was owed
    (10 s + 30 s + 2 min + 10 min): the delivery is dead."""
    d = deliverer(store, Policy("chat", (webhook_server.apprise_url(),)), retry_for=740)
    outbox = Outbox(store.engine)
    add_hit(store, "Story A", T0)
    webhook_server.fail_with = 500
    deliver(d, T0 + timedelta(seconds=10))
    for attempts in (1, 2):
        [failed] = outbox.listing(status="failed")
        assert failed.attempts == attempts and failed.next_attempt is not None
        deliver(d, failed.next_attempt)
    [dead] = outbox.listing(status="dead")
    assert dead.attempts == 3


def test_only_failed_targets_are_retried(store: Store, webhook_server: WebhookServer) -> None:
    with WebhookServer() as broken:
        broken.fail_with = 503
        d = deliverer(store, Policy("chat", (webhook_server.apprise_url(), broken.apprise_url())))
        add_hit(store, "Story A", T0)
        [report] = deliver(d, T0 + timedelta(seconds=10))
        assert not report.ok and len(webhook_server.posts) == 1
        broken.fail_with = None
        [report] = deliver(d, T0 + timedelta(minutes=5))
        assert report.ok
        assert len(webhook_server.posts) == 1 and len(broken.posts) == 1  # the working target got it once


def test_a_claimed_delivery_is_not_sent_by_another_process(
    store: Store, webhook_server: WebhookServer
) -> None:
    d = deliverer(store, Policy("chat", (webhook_server.apprise_url(),)))
    add_hit(store, "Story A", T0)
    outbox = Outbox(store.engine, owner="elsewhere:1:1")
    [due] = outbox.due(T0 + timedelta(seconds=10))
    assert outbox.claim([due.id], T0 + timedelta(seconds=10), T0 + timedelta(minutes=5)) == {due.id}
    assert deliver(d, T0 + timedelta(seconds=11)) == []  # someone else holds it
    assert webhook_server.posts == []
    assert outbox.release_stale(T0 + timedelta(seconds=12), lambda owner: False) == {}  # still alive
    assert outbox.release_stale(T0 + timedelta(seconds=12), lambda owner: owner == "elsewhere:1:1") == {
        "elsewhere:1:1": 1
    }
    [report] = deliver(d, T0 + timedelta(seconds=12))
    assert report.ok and len(webhook_server.posts) == 1


def test_a_failed_digest_is_retried_without_waiting_for_the_next_firing(
    store: Store, webhook_server: WebhookServer
) -> None:
    d = deliverer(store, Policy("chat", (webhook_server.apprise_url(),), mode="digest", schedule="0 8 * * *"))
    add_hit(store, "Story A", T0 + timedelta(hours=1))
    webhook_server.fail_with = 500
    [failed] = deliver(d, T0 + timedelta(hours=2, seconds=1))  # 08:00:01, the server is down
    assert not failed.ok and failed.digest
    webhook_server.fail_with = None
    deliver(
        d, T0 + timedelta(hours=2, seconds=2)
    )  # the daemon's next tick: the failed delivery is not due yet
    add_hit(store, "Story B", T0 + timedelta(hours=2, minutes=1))  # found after that firing
    [retried] = deliver(d, T0 + timedelta(hours=2, minutes=5))  # the retry is due 30-36 s after the failure
    assert retried.ok and retried.digest
    assert titles(webhook_server) == [["Story A"]]  # Story B waits for the next firing
    deliver(d, T0 + timedelta(days=1, hours=2, seconds=1))
    assert titles(webhook_server) == [["Story A"], ["Story B"]]  # nothing repeats


def test_an_article_two_watchlists_matched_is_one_item_in_the_notifiers_zone_and_snippet_count(
    store: Store,
    webhook_server: WebhookServer,
) -> None:
    article = Article(
        feed="wire",
        key="https://news.example/sensors",
        url="https://news.example/sensors",
        guid=None,
        title="Sensors on drones",
        summary="Wescam again.",
        text="Wescam sensors on drones. Export permits were granted.",
        published=T0,
        first_seen=T0,
    )
    wescam = (
        Snippet("body", "Wescam sensors on drones.", ((0, 6),)),
        Snippet("summary", "Wescam again.", ((0, 6),)),
    )
    matches = [
        Match("arms", ("Wescam",), wescam, ("body", "summary")),
        Match(
            "permits", ("permits",), (Snippet("body", "Export permits were granted.", ((7, 14),)),), ("body",)
        ),
    ]
    assert store.save_article(article, matches, {"arms": ("chat",), "permits": ("chat",)}, alert=True, now=T0)
    chat = Policy("chat", (webhook_server.apprise_url(),), timezone="Europe/Paris", snippets=1)
    [report] = deliver(deliverer(store, chat), T0 + timedelta(seconds=6))
    assert report.ok and report.hits == 2  # two deliveries, one article
    [post] = webhook_server.posts
    assert post.json["title"] == "Sensors on drones · arms, permits"
    lines = post.json["message"].splitlines()
    assert lines[1:3] == ["wire · 2026-03-02 07:00 CET", "arms: Wescam · permits: permits"]
    assert len([line for line in lines if line.startswith("  “")]) == 1  # one snippet, as configured
