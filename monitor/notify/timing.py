"""Pure delivery rules: retry backoff, quiet hours, digest schedules. Times are passed in."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

RETRY_STEPS = (30.0, 120.0, 600.0, 1800.0)  # then every hour
RETRY_CAP = 3600.0


def retry_delay(attempts: int, rng: random.Random) -> float:
    """Seconds before the next try of a delivery that failed ``attempts`` times: 30 s, 2 min, 10 min, 30 min,
    then hourly, each jittered by up to 20 % so that many queued alerts don't all retry at the same second."""
    base = RETRY_STEPS[attempts - 1] if 0 < attempts <= len(RETRY_STEPS) else RETRY_CAP
    return base * (1 + rng.random() * 0.2)


def quiet_until(now: datetime, quiet_hours: tuple[time, time] | None, tz: ZoneInfo) -> datetime | None:
    """When the quiet period (start, end) that ``now`` falls in ends, or None outside quiet hours.

    The period is read in the notifier's time zone ``tz`` and may wrap past midnight ("22:00-07:00").
    """
    if not quiet_hours:
        return None
    start, end = quiet_hours
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start <= end:
        inside = start <= clock < end
        end_day = local.date()
    else:  # spans midnight
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(now.tzinfo)


def next_digest(schedule: str, tz: ZoneInfo, after: datetime) -> datetime:
    """The first time the cron ``schedule`` fires after ``after``, read in the notifier's time zone."""
    fire: datetime = croniter(schedule, after.astimezone(tz)).get_next(datetime)
    return fire.astimezone(after.tzinfo)


def digest_due(schedule: str, tz: ZoneInfo, last: datetime, now: datetime) -> bool:
    """Whether a digest whose schedule last fired (or started) at ``last`` fires now: at its firing, not before."""
    return next_digest(schedule, tz, last) <= now


def flood_held(sent_last_hour: int, max_per_hour: int | None) -> bool:
    """Whether a notifier that sent ``sent_last_hour`` messages in the past hour must hold the next one."""
    return max_per_hour is not None and sent_last_hour >= max_per_hour


def group_ready(oldest: datetime, window: float, now: datetime) -> bool:
    """Whether a group of alerts whose oldest came in at ``oldest`` has waited out the grouping window."""
    return oldest + timedelta(seconds=window) <= now


def gives_up(created: datetime, next_attempt: datetime, retry_for: float) -> bool:
    """Whether a failing delivery is dead: its next attempt would fall past ``retry_for`` seconds of trying."""
    return next_attempt - created > timedelta(seconds=retry_for)
