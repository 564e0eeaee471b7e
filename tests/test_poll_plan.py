"""The poll decision (``poll_plan``): every branch and boundary, on values alone."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.models import FeedState
from monitor.poll_plan import (
    PollOutcome,
    PollTiming,
    backoff_delay,
    document_digest,
    first_poll,
    moved_to,
    plan,
    reader_tag,
    repeated_failure,
    request_validators,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TIMING = PollTiming(interval=600.0, max_backoff=3600.0)


class FixedRandom(random.Random):
    """A random source that always draws the same value: the jitter's edges, exactly."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


NO_JITTER = FixedRandom(0.0)


def state(**values: object) -> FeedState:
    base: dict[str, object] = {"name": "wire", "url": "https://news.example/feed.xml"}
    return FeedState(**(base | values))  # type: ignore[arg-type]


# success ---------------------------------------------------------------------------------------------------


def test_a_success_resets_failures_and_polls_again_after_one_interval() -> None:
    before = state(consecutive_failures=3, entries_seen=10, gone=True, etag="old", current_url=None)
    ok = PollOutcome("ok", new_entries=4, etag='"v2"', last_modified="Mon, 02 Mar 2026 11:00:00 GMT")
    change = plan(before, ok, NOW, TIMING, NO_JITTER)
    assert change.feed == "wire"
    assert change.polled_at == NOW
    assert change.status == "ok"
    assert change.next_poll == NOW + timedelta(seconds=600)
    assert change.consecutive_failures == 0
    assert change.entries_seen == 14
    assert change.error is None and change.gone is False
    assert change.validators == ('"v2"', "Mon, 02 Mar 2026 11:00:00 GMT")
    assert change.moved_to is None


def test_an_ok_without_validators_clears_the_stored_ones() -> None:
    change = plan(state(etag="old", last_modified="then"), PollOutcome("ok"), NOW, TIMING, NO_JITTER)
    assert change.validators == (None, None)


def test_not_modified_keeps_the_validators_and_counts_nothing_new() -> None:
    outcome = PollOutcome("not-modified", etag="ignored")
    change = plan(state(entries_seen=7, consecutive_failures=2), outcome, NOW, TIMING, NO_JITTER)
    assert change.status == "not-modified"
    assert change.validators is None
    assert change.entries_seen == 7
    assert change.consecutive_failures == 0
    assert change.next_poll == NOW + timedelta(seconds=600)


def test_a_success_takes_no_randomness() -> None:
    class NoRandom(random.Random):
        def random(self) -> float:
            raise AssertionError("a success is not jittered")

    plan(state(), PollOutcome("ok"), NOW, TIMING, NoRandom())


# moves -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["ok", "not-modified"])
def test_a_permanent_redirect_elsewhere_moves_the_feed(status: str) -> None:
    outcome = PollOutcome(status, redirect="https://new.example/feed.xml")
    change = plan(state(), outcome, NOW, TIMING, NO_JITTER)
    assert change.moved_to == "https://new.example/feed.xml"


def test_a_redirect_to_where_the_feed_already_is_is_no_move() -> None:
    here = state(current_url="https://new.example/feed.xml")
    assert moved_to("https://new.example/feed.xml", here) is None
    assert moved_to("https://news.example/feed.xml", here) == "https://news.example/feed.xml"
    assert moved_to("https://news.example/feed.xml", state()) is None
    assert moved_to(None, state()) is None
    assert moved_to("", state()) is None


def test_a_failure_never_moves_the_feed() -> None:
    failed = PollOutcome("error", error="boom", redirect="https://new.example/feed.xml")
    assert plan(state(), failed, NOW, TIMING, NO_JITTER).moved_to is None


# failures and backoff --------------------------------------------------------------------------------------


def test_a_failure_counts_and_backs_off_keeping_what_it_knew() -> None:
    before = state(consecutive_failures=2, entries_seen=9, etag="e")
    change = plan(before, PollOutcome.failed("HTTP 503"), NOW, TIMING, NO_JITTER)
    assert change.status == "error"
    assert change.error == "HTTP 503"
    assert change.consecutive_failures == 3
    assert change.entries_seen is None  # the stored count stays
    assert change.validators is None and change.moved_to is None
    assert change.gone is False
    assert change.next_poll == NOW + timedelta(seconds=600 * 4)


def test_gone_is_recorded() -> None:
    change = plan(state(), PollOutcome.failed("HTTP 410", gone=True), NOW, TIMING, NO_JITTER)
    assert change.gone is True


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 600.0), (1, 600.0), (2, 1200.0), (3, 2400.0), (4, 3600.0), (5, 3600.0), (30, 3600.0)],
)
def test_backoff_doubles_per_failure_up_to_the_cap(failures: int, expected: float) -> None:
    assert backoff_delay(600.0, failures, 3600.0, None, NO_JITTER) == expected


def test_backoff_equal_to_the_cap_is_the_cap() -> None:
    assert backoff_delay(600.0, 3, 2400.0, None, NO_JITTER) == 2400.0
    assert backoff_delay(600.0, 3, 2399.0, None, NO_JITTER) == 2399.0


def test_a_cap_below_the_interval_never_polls_faster_than_the_interval() -> None:
    assert backoff_delay(600.0, 1, 60.0, None, NO_JITTER) == 600.0
    assert backoff_delay(600.0, 5, 60.0, None, NO_JITTER) == 600.0


@pytest.mark.parametrize(("draw", "factor"), [(0.0, 1.0), (0.5, 1.05), (0.999999, 1.0999999)])
def test_jitter_adds_up_to_ten_percent(draw: float, factor: float) -> None:
    assert backoff_delay(600.0, 2, 3600.0, None, FixedRandom(draw)) == pytest.approx(1200.0 * factor)


def test_jitter_bounds_with_a_seeded_rng() -> None:
    rng = random.Random(16)
    delays = [backoff_delay(600.0, 2, 3600.0, None, rng) for _ in range(2000)]
    assert all(1200.0 <= d < 1320.0 for d in delays)
    assert min(delays) < 1206.0 and max(delays) > 1314.0  # the whole range is used
    again = random.Random(16)
    assert delays[:5] == [backoff_delay(600.0, 2, 3600.0, None, again) for _ in range(5)]


def test_the_cap_is_jittered_too() -> None:
    assert backoff_delay(600.0, 9, 3600.0, None, FixedRandom(0.5)) == pytest.approx(3780.0)


def test_retry_after_longer_than_the_backoff_wins() -> None:
    assert backoff_delay(600.0, 1, 3600.0, 7200.0, FixedRandom(0.5)) == 7200.0


def test_retry_after_beyond_the_cap_still_wins() -> None:
    """Retry-After is the server's word: the backoff cap bounds our own doubling, not its request."""
    assert backoff_delay(600.0, 9, 3600.0, 86400.0, NO_JITTER) == 86400.0


def test_retry_after_shorter_than_the_backoff_is_ignored() -> None:
    assert backoff_delay(600.0, 2, 3600.0, 30.0, FixedRandom(0.5)) == pytest.approx(1260.0)
    assert backoff_delay(600.0, 2, 3600.0, 0.0, NO_JITTER) == 1200.0


def test_retry_after_equal_to_the_backoff() -> None:
    assert backoff_delay(600.0, 2, 3600.0, 1200.0, NO_JITTER) == 1200.0


def test_plan_passes_retry_after_into_the_next_poll() -> None:
    failed = PollOutcome.failed("HTTP 429", retry_after=5000.0)
    change = plan(state(), failed, NOW, TIMING, NO_JITTER)
    assert change.next_poll == NOW + timedelta(seconds=5000)
    assert change.consecutive_failures == 1


# the first poll after a start ------------------------------------------------------------------------------

SLOT = NOW + timedelta(seconds=300)


def test_a_feed_never_polled_takes_its_staggered_slot() -> None:
    assert first_poll(state(), SLOT, NOW) == SLOT


def test_a_healthy_feed_due_before_its_slot_is_polled_then() -> None:
    due = NOW + timedelta(seconds=100)
    assert first_poll(state(next_poll=due), SLOT, NOW) == due


def test_a_healthy_feed_due_exactly_at_its_slot_keeps_the_slot() -> None:
    assert first_poll(state(next_poll=SLOT), SLOT, NOW) == SLOT


def test_a_healthy_feed_due_after_its_slot_takes_the_slot() -> None:
    later = SLOT + timedelta(seconds=1)
    assert first_poll(state(next_poll=later), SLOT, NOW) == SLOT


def test_a_failing_feed_keeps_its_backoff_across_a_restart() -> None:
    later = NOW + timedelta(hours=2)
    assert first_poll(state(next_poll=later, consecutive_failures=1), SLOT, NOW) == later


def test_an_overdue_feed_is_polled_now_not_in_the_past() -> None:
    overdue = NOW - timedelta(hours=1)
    assert first_poll(state(next_poll=overdue), SLOT, NOW) == NOW
    assert first_poll(state(next_poll=overdue, consecutive_failures=4), SLOT, NOW) == NOW
    assert first_poll(state(next_poll=NOW), SLOT, NOW) == NOW


# a document that failed to parse -----------------------------------------------------------------------------


def test_a_document_that_failed_to_parse_is_remembered_with_its_own_validators() -> None:
    before = state(etag="good", last_modified="Mon", consecutive_failures=1)
    outcome = PollOutcome.unparseable("not a feed", "d1", '"h1"', None)
    change = plan(before, outcome, NOW, TIMING, NO_JITTER)
    assert (change.status, change.error, change.consecutive_failures) == ("error", "not a feed", 2)
    assert (change.failed_digest, change.validators) == ("d1", ('"h1"', None))


def test_another_failure_after_a_failed_document_forgets_it_and_its_validators() -> None:
    before = state(etag='"h1"', failed_digest="d1", last_error="not a feed")
    change = plan(before, PollOutcome.failed("HTTP 503"), NOW, TIMING, NO_JITTER)
    assert (change.failed_digest, change.validators, change.error) == (None, (None, None), "HTTP 503")
    plain = plan(state(etag="good"), PollOutcome.failed("HTTP 503"), NOW, TIMING, NO_JITTER)
    assert (plain.failed_digest, plain.validators) == (None, None)  # no failed document: validators kept


def test_a_success_clears_the_failed_document() -> None:
    before = state(etag='"h1"', failed_digest="d1", consecutive_failures=4)
    change = plan(before, PollOutcome("ok", etag='"v2"'), NOW, TIMING, NO_JITTER)
    assert (change.failed_digest, change.validators, change.consecutive_failures) == (None, ('"v2"', None), 0)


READER = "0.1.0 feed "


def test_the_failed_document_unchanged_is_the_same_failure_again() -> None:
    failed = document_digest(b"<html>", READER)
    before = state(etag='"h1"', last_modified="Mon", failed_digest=failed, last_error="not a feed")
    on_304 = repeated_failure(before, READER, not_modified=True, etag='"other"')
    assert on_304 == PollOutcome.unparseable(
        "not a feed", failed, '"h1"', "Mon"
    )  # a 304 keeps the validators
    same = repeated_failure(
        before, READER, not_modified=False, digest=failed, etag='"h2"', last_modified=None
    )
    assert same == PollOutcome.unparseable("not a feed", failed, '"h2"', None)
    other = document_digest(b"<html> ", READER)
    assert repeated_failure(before, READER, not_modified=False, digest=other) is None  # another document
    assert (
        repeated_failure(state(etag='"h1"'), READER, not_modified=True) is None
    )  # nothing failed: a real 304
    no_reason = repeated_failure(state(failed_digest=failed), READER, not_modified=True)
    assert no_reason is not None and no_reason.error == "the document failed to parse"


def test_a_failed_document_read_another_way_is_fetched_whole_and_parsed_again() -> None:
    failed = document_digest(b"<html>", READER)
    before = state(etag='"h1"', last_modified="Mon", failed_digest=failed, last_error="not a feed")
    assert request_validators(before, READER) == ('"h1"', "Mon")
    upgraded = "0.2.0 feed "
    assert request_validators(before, upgraded) == (None, None)
    assert repeated_failure(before, upgraded, not_modified=True) is None
    again = document_digest(b"<html>", upgraded)
    assert repeated_failure(before, upgraded, not_modified=False, digest=again) is None
    assert request_validators(state(etag='"v1"'), upgraded) == ('"v1"', None)  # nothing failed: kept


def test_a_documents_digest_covers_its_bytes_and_how_it_is_read() -> None:
    assert document_digest(b"<html>", "0.1.0 feed ") == document_digest(b"<html>", "0.1.0 feed ")
    assert document_digest(b"<html>", "0.1.0 feed ") != document_digest(b"<html> ", "0.1.0 feed ")
    assert document_digest(b"<html>", "0.1.0 feed ") != document_digest(b"<html>", "0.1.1 feed ")
    assert document_digest(b"<html>", "0.1.0 page p").startswith(reader_tag("0.1.0 page p"))
    assert len(document_digest(b"", "")) == 64  # fits the column
