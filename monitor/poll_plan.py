"""What a poll's outcome does to a feed's schedule and stored state, decided from values alone.

``plan`` reads the feed's state, what the poll found, ``now``, the limits and a random source, and returns the
``FeedUpdate`` the store applies. Nothing here touches the network, the database or the clock.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.models import FeedState, FeedUpdate

BACKOFF_JITTER = 0.1  # a failing feed's delay grows by up to 10 %, so failing feeds drift apart


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll found, as far as the feed's schedule cares."""

    status: str  # ok, not-modified, error
    new_entries: int = 0
    error: str | None = None
    retry_after: float | None = None  # seconds the server asked us to wait (Retry-After)
    gone: bool = False  # the server said the feed is gone for good (410)
    etag: str | None = None
    last_modified: str | None = None
    redirect: str | None = None  # where a permanent redirect pointed
    # A document that failed to parse: its digest (``document_digest``); etag and last_modified are its own.
    digest: str | None = None

    @classmethod
    def failed(cls, reason: str, *, retry_after: float | None = None, gone: bool = False) -> PollOutcome:
        return cls("error", error=reason, retry_after=retry_after, gone=gone)

    @classmethod
    def unparseable(
        cls, reason: str, digest: str, etag: str | None, last_modified: str | None
    ) -> PollOutcome:
        """The document failed to parse: remembered by its digest and validators, so that it is not parsed
        again while it comes back unchanged."""
        return cls("error", error=reason, digest=digest, etag=etag, last_modified=last_modified)


@dataclass(frozen=True, slots=True)
class PollTiming:
    interval: float  # seconds between polls of a healthy feed
    max_backoff: float  # the longest a failing feed waits (never shorter than its interval)


def plan(
    state: FeedState, outcome: PollOutcome, now: datetime, timing: PollTiming, rng: random.Random
) -> FeedUpdate:
    """The feed's state after a poll: a success resets the failures and polls again after one interval; a
    failure backs off."""
    if outcome.status == "error":
        failures = state.consecutive_failures + 1
        delay = backoff_delay(timing.interval, failures, timing.max_backoff, outcome.retry_after, rng)
        validators: tuple[str | None, str | None] | None = None  # kept
        if outcome.digest is not None:
            validators = (outcome.etag, outcome.last_modified)  # they name the document that failed
        elif state.failed_digest is not None:
            # Another failure (the fetch) after a document that failed to parse: forget that document, and its
            # validators with it, so that the next poll fetches and parses whatever is there (a 304 to them
            # would otherwise read as a success).
            validators = (None, None)
        return FeedUpdate(
            feed=state.name,
            polled_at=now,
            status="error",
            next_poll=now + timedelta(seconds=delay),
            consecutive_failures=failures,
            entries_seen=None,
            error=outcome.error,
            gone=outcome.gone,
            validators=validators,
            failed_digest=outcome.digest,
        )
    return FeedUpdate(
        feed=state.name,
        polled_at=now,
        status=outcome.status,
        next_poll=now + timedelta(seconds=timing.interval),
        consecutive_failures=0,
        entries_seen=state.entries_seen + outcome.new_entries,
        moved_to=moved_to(outcome.redirect, state),
        # A 304 carries no new validators worth keeping: the stored ones still name the version we have.
        validators=(outcome.etag, outcome.last_modified) if outcome.status == "ok" else None,
    )


def document_digest(body: bytes, reader: str) -> str:
    """What identifies a fetched document for ``repeated_failure``: ``reader_tag(reader)`` followed by a hash of
    the bytes and how they are read (``reader``: the program's version, the source's kind and selector), so
    that an upgrade or another reading parses it again. 64 characters."""
    digest = hashlib.sha256(reader.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(body)
    return reader_tag(reader) + digest.hexdigest()[:48]


def reader_tag(reader: str) -> str:
    return hashlib.sha256(reader.encode("utf-8")).hexdigest()[:16]


def request_validators(state: FeedState, reader: str) -> tuple[str | None, str | None]:
    """The validators a poll sends: the stored ones, unless they name a document that failed to parse when read
    another way (another version of the program, another selector): that one is fetched whole, and read again."""
    if state.failed_digest is not None and not state.failed_digest.startswith(reader_tag(reader)):
        return None, None
    return state.etag, state.last_modified


def repeated_failure(
    state: FeedState,
    reader: str,
    *,
    not_modified: bool,
    digest: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> PollOutcome | None:
    """The stored failure again when the document that failed to parse last time, read the same way, came back
    unchanged (a 304 to its validators, or the same digest): not parsed again, and still reported failing with
    its reason. None when there is no such failure, or the document or its reading changed. ``etag``,
    ``last_modified``: the response's, when it sent the document again (a 304 keeps the stored ones)."""
    failed = state.failed_digest
    if failed is None or not failed.startswith(reader_tag(reader)):
        return None
    if not (not_modified or digest == failed):
        return None
    reason = state.last_error or "the document failed to parse"
    if not_modified:
        etag, last_modified = state.etag, state.last_modified
    return PollOutcome.unparseable(reason, failed, etag, last_modified)


def backoff_delay(
    interval: float, failures: int, max_backoff: float, retry_after: float | None, rng: random.Random
) -> float:
    """Seconds until the next poll of a failing feed: the interval doubled per failure, capped, jittered by up
    to 10 %, never sooner than the server's Retry-After."""
    delay = float(min(interval * 2 ** max(failures - 1, 0), max(max_backoff, interval)))
    delay *= 1 + rng.random() * BACKOFF_JITTER
    return max(delay, retry_after or 0.0)


def moved_to(redirect: str | None, state: FeedState) -> str | None:
    """The feed's new address when a permanent redirect points somewhere other than where we polled."""
    if redirect and redirect != state.fetch_url:
        return redirect
    return None


def first_poll(state: FeedState, staggered: datetime, now: datetime) -> datetime:
    """When a daemon starting now first polls a feed: at its staggered slot, unless the stored state says it is
    due sooner or, after a failure, later (a feed's backoff survives a restart). Never in the past."""
    if state.next_poll and (state.consecutive_failures or state.next_poll < staggered):
        return max(state.next_poll, now)
    return staggered
