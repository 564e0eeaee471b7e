"""``plan_sends``: which groups go out now, decided from values alone (the deliverer applies the plans)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from monitor.models import Delivery, Hit
from monitor.notify.plan import SendPlan, plan_sends
from monitor.notify.policy import Policies, Policy

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday
CHAT = Policy("chat", ("json://chat.example/",))
DIGEST = Policy("mail", ("mailto://desk@example.org",), mode="digest", schedule="0 8 * * *")


def owed(
    id: int,
    notifier: str = "chat",
    *,
    at: datetime = T0,
    attempts: int = 0,
    watchlist: str = "arms",
    sent_targets: tuple[int, ...] = (),
) -> Delivery:
    hit = Hit(id, watchlist, "wire", None, f"Story {id}", at, at, ("Wescam",), ())
    return Delivery(id, hit, notifier, "pending", attempts, at, created_at=at, sent_targets=sent_targets)


def plan(due: list[Delivery], policies: Policies, now: datetime, **kw: object) -> list[SendPlan]:
    marks = kw.pop("marks", {})
    sent = kw.pop("sent", {})
    return plan_sends(due, policies, marks, sent, now, group_window=5.0, **kw)  # type: ignore[arg-type]


def ids(plans: list[SendPlan]) -> list[list[int]]:
    return [[d.id for d in p.deliveries] for p in plans if p.send]


def test_nothing_owed_nothing_planned() -> None:
    assert plan([], Policies({"chat": CHAT}), T0) == []


def test_immediate_alerts_wait_out_the_window_then_go_as_one_group() -> None:
    due = [owed(1), owed(2, at=T0 + timedelta(seconds=2))]
    policies = Policies({"chat": CHAT})
    assert plan(due, policies, T0 + timedelta(seconds=4)) == []
    assert ids(plan(due, policies, T0 + timedelta(seconds=5))) == [[1, 2]]
    assert ids(plan(due, policies, T0, flush=True)) == [[1, 2]]


def test_a_retry_goes_without_waiting_and_partial_sends_form_their_own_group() -> None:
    due = [owed(1, attempts=1), owed(2, attempts=1, sent_targets=(0,))]
    [first, second] = plan(due, Policies({"chat": CHAT}), T0)
    assert [d.id for d in first.deliveries] == [1] and first.sent_targets == ()
    assert [d.id for d in second.deliveries] == [2] and second.sent_targets == (0,)


def test_flood_control_and_quiet_hours_hold() -> None:
    capped = Policies({"chat": Policy("chat", ("json://chat.example/",), max_per_hour=2)})
    assert plan([owed(1)], capped, T0, sent={"chat": 2}, flush=True) == []
    assert ids(plan([owed(1)], capped, T0, sent={"chat": 1}, flush=True)) == [[1]]
    # a notifier with no send in the last hour (another's sends recorded) has its whole cap
    one = Policies({"chat": Policy("chat", ("json://chat.example/",), max_per_hour=1)})
    assert ids(plan([owed(1)], one, T0, sent={"mail": 9}, flush=True)) == [[1]]
    quiet = Policies({"chat": Policy("chat", ("json://chat.example/",), quiet_hours=(time(5), time(7)))})
    assert plan([owed(1)], quiet, T0, flush=True) == []
    assert ids(plan([owed(1)], quiet, T0 + timedelta(hours=1), flush=True)) == [[1]]


def test_a_new_digest_schedule_starts_at_the_oldest_thing_owed() -> None:
    due = [owed(1, "mail", at=T0 - timedelta(hours=1)), owed(2, "mail")]
    [started] = plan(due, Policies({"mail": DIGEST}), T0)
    assert (started.send, started.scheduled, started.start_mark) == (False, False, T0 - timedelta(hours=1))
    [empty] = plan([], Policies({"mail": DIGEST}), T0)
    assert (empty.send, empty.start_mark) == (False, T0)


def test_a_digest_goes_at_its_firing_and_between_firings_only_retries() -> None:
    policies = Policies({"mail": DIGEST})
    marks = {"mail": T0}
    assert plan([owed(1, "mail")], policies, T0 + timedelta(hours=1), marks=marks) == []
    [retry] = plan([owed(1, "mail", attempts=1), owed(2, "mail")], policies, T0, marks=marks)
    assert [d.id for d in retry.deliveries] == [1] and not retry.scheduled
    [fired] = plan([owed(1, "mail"), owed(2, "mail")], policies, T0 + timedelta(hours=2), marks=marks)
    assert ([d.id for d in fired.deliveries], fired.scheduled, fired.digest) == ([1, 2], True, True)


def test_an_empty_digest_only_moves_its_mark_unless_asked_to_send() -> None:
    marks = {"mail": T0}
    [skip] = plan([], Policies({"mail": DIGEST}), T0 + timedelta(hours=2), marks=marks)
    assert (skip.send, skip.scheduled, skip.start_mark) == (False, True, None)
    wanted = Policies(
        {"mail": Policy("mail", DIGEST.urls, mode="digest", schedule="0 8 * * *", send_empty=True)}
    )
    [sent] = plan([], wanted, T0 + timedelta(hours=2), marks=marks)
    assert (sent.send, sent.scheduled, sent.deliveries) == (True, True, ())


def test_a_watchlist_digest_has_its_own_group_and_mark() -> None:
    override = Policy("chat", CHAT.urls, mode="digest", schedule="0 8 * * *")
    policies = Policies({"chat": CHAT}, {("chat", "quiet-list"): override})
    due = [owed(1), owed(2, watchlist="quiet-list")]
    plans = plan(due, policies, T0 + timedelta(hours=2), marks={"chat/quiet-list": T0})
    assert {(p.key, tuple(d.id for d in p.deliveries)) for p in plans} == {
        ("chat", (1,)),
        ("chat/quiet-list", (2,)),
    }


def test_a_notifier_is_the_console_by_its_name_or_when_it_has_no_urls() -> None:
    assert Policy("console", ("json://chat.example/",)).console
    assert Policy("desk", ()).console
    assert not CHAT.console


def test_only_notifiers_with_an_hourly_cap_are_capped() -> None:
    capped = Policy("chat", CHAT.urls, max_per_hour=0)
    assert Policies({"chat": capped, "mail": DIGEST}).capped() == [capped]
