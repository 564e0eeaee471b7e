"""The delivery rules of ``notify/timing.py`` at their edges: retry steps, quiet hours, digest firing, flood
control, the grouping window and when a failing delivery gives up. Every comparison is pinned from both sides."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.notify.timing import (
    RETRY_CAP,
    RETRY_STEPS,
    digest_due,
    flood_held,
    gives_up,
    group_ready,
    next_digest,
    quiet_until,
    retry_delay,
)

UTC_ZONE = ZoneInfo("UTC")
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
SECOND = timedelta(seconds=1)


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def at(hour: int, minute: int = 0, second: int = 0, day: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute, seconds=second)


# retry steps -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "base"),
    [(0, RETRY_CAP), (1, 30.0), (2, 120.0), (3, 600.0), (4, 1800.0), (5, RETRY_CAP), (50, RETRY_CAP)],
)
def test_retry_steps_then_hourly(attempts: int, base: float) -> None:
    assert retry_delay(attempts, FixedRandom(0.0)) == base


def test_the_steps_are_what_the_docs_say() -> None:
    assert (RETRY_STEPS, RETRY_CAP) == ((30.0, 120.0, 600.0, 1800.0), 3600.0)


@pytest.mark.parametrize(("draw", "factor"), [(0.0, 1.0), (0.5, 1.1), (0.9999, 1.19998)])
def test_retry_jitter_adds_up_to_twenty_percent(draw: float, factor: float) -> None:
    assert retry_delay(2, FixedRandom(draw)) == pytest.approx(120.0 * factor)


def test_retry_jitter_bounds_with_a_seeded_rng() -> None:
    rng = random.Random(16)
    delays = [retry_delay(1, rng) for _ in range(2000)]
    assert all(30.0 <= d < 36.0 for d in delays)
    assert min(delays) < 30.1 and max(delays) > 35.9


# quiet hours -----------------------------------------------------------------------------------------------

DAYTIME = (time(9, 0), time(17, 0))
NIGHT = (time(22, 0), time(7, 0))


def test_no_quiet_hours_never_hold() -> None:
    assert quiet_until(at(3), None, UTC_ZONE) is None


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (at(8, 59, 59), None),
        (at(9), at(17)),
        (at(12), at(17)),
        (at(16, 59, 59), at(17)),
        (at(17), None),
        (at(23), None),
    ],
)
def test_quiet_hours_within_a_day(now: datetime, until: datetime | None) -> None:
    assert quiet_until(now, DAYTIME, UTC_ZONE) == until


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (at(21, 59, 59), None),
        (at(22), at(7, day=1)),
        (at(23, 30), at(7, day=1)),
        (at(0), at(7)),
        (at(6, 59, 59), at(7)),
        (at(7), None),
        (at(12), None),
    ],
)
def test_quiet_hours_across_midnight(now: datetime, until: datetime | None) -> None:
    assert quiet_until(now, NIGHT, UTC_ZONE) == until


def test_quiet_hours_that_start_where_they_end_are_empty() -> None:
    same = (time(9, 0), time(9, 0))
    for now in (at(8, 59, 59), at(9), at(9, 0, 1), at(21)):
        assert quiet_until(now, same, UTC_ZONE) is None


def test_quiet_hours_are_read_in_the_notifiers_time_zone() -> None:
    toronto = ZoneInfo("America/Toronto")  # UTC-5 in early March
    assert quiet_until(at(2, 59, 59), NIGHT, toronto) is None  # 21:59:59 in Toronto
    end = quiet_until(at(3), NIGHT, toronto)  # 22:00 in Toronto
    assert end == at(12)  # 07:00 the next morning in Toronto
    assert end is not None and end.tzinfo == UTC
    assert quiet_until(at(12), NIGHT, toronto) is None


# digest firing ---------------------------------------------------------------------------------------------


def test_next_digest_is_the_first_firing_after() -> None:
    assert next_digest("0 8 * * *", UTC_ZONE, at(6)) == at(8)
    assert next_digest("0 8 * * *", UTC_ZONE, at(8)) == at(8, day=1)


def test_a_digest_fires_at_its_time_and_not_a_second_before() -> None:
    assert not digest_due("0 8 * * *", UTC_ZONE, at(6), at(7, 59, 59))
    assert digest_due("0 8 * * *", UTC_ZONE, at(6), at(8))
    assert digest_due("0 8 * * *", UTC_ZONE, at(6), at(8, 0, 1))


def test_a_digest_reads_its_schedule_in_its_time_zone() -> None:
    paris = ZoneInfo("Europe/Paris")  # UTC+1 in early March
    assert next_digest("0 8 * * *", paris, at(6)) == at(7)
    assert digest_due("0 8 * * *", paris, at(6), at(7))
    assert not digest_due("0 8 * * *", paris, at(6), at(6, 59, 59))


# flood control ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "cap", "held"),
    [(0, None, False), (1000, None, False), (2, 3, False), (3, 3, True), (4, 3, True), (0, 0, True)],
)
def test_flood_control_holds_from_the_cap_on(sent: int, cap: int | None, held: bool) -> None:
    assert flood_held(sent, cap) is held


# grouping window -------------------------------------------------------------------------------------------


def test_a_group_goes_out_when_its_window_has_passed_exactly() -> None:
    oldest = at(10)
    assert not group_ready(oldest, 5.0, oldest + timedelta(seconds=4.999))
    assert group_ready(oldest, 5.0, oldest + timedelta(seconds=5))
    assert group_ready(oldest, 5.0, oldest + timedelta(seconds=6))
    assert group_ready(oldest, 0.0, oldest)


# giving up -------------------------------------------------------------------------------------------------


def test_a_delivery_gives_up_only_past_its_retry_time() -> None:
    created = at(10)
    day = 86400.0
    assert not gives_up(created, created + timedelta(seconds=day) - SECOND, day)
    assert not gives_up(created, created + timedelta(seconds=day), day)
    assert gives_up(created, created + timedelta(seconds=day, microseconds=1), day)
