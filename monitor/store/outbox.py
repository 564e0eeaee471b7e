"""The delivery outbox: what each notifier still owes, claimed by one sender at a time."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Row, and_, func, or_, select, update

from monitor.models import Delivery, DeliveryOutcome
from monitor.store.queries import hit_from_row, hit_query, with_outlets
from monitor.store.tables import deliveries, hits, notifier_state

OPEN = ("pending", "failed")


class Outbox:
    """``owner``: who this process's claims say holds them (see monitor.claims); None for a reader."""

    def __init__(self, engine: Engine, owner: str | None = None) -> None:
        self.engine = engine
        self.owner = owner
        self._sender = owner or f"outbox:{uuid.uuid4().hex}"  # who holds a notifier while sending

    def due(self, now: datetime, notifiers: Iterable[str] | None = None) -> list[Delivery]:
        """Open deliveries whose time has come and that no sender holds, oldest first."""
        query = _delivery_query().where(
            deliveries.c.status.in_(OPEN),
            deliveries.c.next_attempt_at <= now,
            or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now),
        )
        if notifiers is not None:
            query = query.where(deliveries.c.notifier.in_(list(notifiers)))
        with self.engine.begin() as conn:
            due = [_delivery(row) for row in conn.execute(query.order_by(deliveries.c.id))]
            hits_with_outlets = with_outlets(conn, [d.hit for d in due])
        return [replace(d, hit=hit) for d, hit in zip(due, hits_with_outlets, strict=True)]

    def claim(self, ids: Sequence[int], now: datetime, until: datetime) -> set[int]:
        """Take the given deliveries for sending; returns those this caller got (another process may hold some)."""
        with self.engine.begin() as conn:
            claimed = conn.scalars(
                update(deliveries)
                .where(
                    deliveries.c.id.in_(list(ids)),
                    deliveries.c.status.in_(OPEN),
                    or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now),
                )
                .values(claimed_until=until, claimed_by=self.owner)
                .returning(deliveries.c.id)
            )
            return set(claimed)

    def record(self, outcomes: Sequence[DeliveryOutcome], now: datetime) -> None:
        """Write the result of a send: sent rows are done, failed ones wait for their next attempt or die."""
        with self.engine.begin() as conn:
            for outcome in outcomes:
                values: dict[str, Any] = {
                    "attempts": deliveries.c.attempts + 1,
                    "claimed_until": None,
                    "claimed_by": None,
                    "sent_targets": json.dumps(sorted(outcome.sent_targets)),
                }
                if outcome.sent:
                    values |= {"status": "sent", "sent_at": now, "last_error": None}
                else:
                    values |= {
                        "status": "dead" if outcome.dead else "failed",
                        "last_error": outcome.error,
                        "next_attempt_at": outcome.next_attempt,
                    }
                conn.execute(update(deliveries).where(deliveries.c.id == outcome.id).values(**values))

    def release(self, ids: Sequence[int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(list(ids)))
                .values(claimed_until=None, claimed_by=None)
            )

    def release_stale(self, now: datetime, gone: Callable[[str], bool]) -> dict[str, int]:
        """Drop the claims whose owner is gone (``gone(owner)``) or whose time ran out, so that what a
        stopped sender held goes out now instead of when its claim expires. The claims of a live sender
        (another daemon, a `monitor poll` running beside this one) are kept. Returns the released rows by
        owner."""
        held = or_(deliveries.c.claimed_until.is_not(None), deliveries.c.claimed_by.is_not(None))
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(deliveries.c.id, deliveries.c.claimed_by, deliveries.c.claimed_until).where(held)
            ).all()
            stale = [
                row
                for row in rows
                if (row.claimed_until is not None and row.claimed_until < now)
                or (row.claimed_by is not None and gone(row.claimed_by))
            ]
            if stale:
                conn.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_([row.id for row in stale]))
                    .values(claimed_until=None, claimed_by=None)
                )
        released: dict[str, int] = {}
        for row in stale:
            owner = row.claimed_by or "unknown"
            released[owner] = released.get(owner, 0) + 1
        return released

    def held(self, now: datetime) -> dict[str, tuple[int, datetime]]:
        """Open deliveries other senders hold now: by owner, how many and until when."""
        query = (
            select(deliveries.c.claimed_by, func.count(), func.max(deliveries.c.claimed_until))
            .where(deliveries.c.status.in_(OPEN), deliveries.c.claimed_until >= now)
            .group_by(deliveries.c.claimed_by)
        )
        with self.engine.begin() as conn:
            return {
                row[0] or "unknown": (row[1], _aware(row[2]))
                for row in conn.execute(query)
                if row[0] != self.owner or row[0] is None
            }

    def listing(
        self, *, status: str | None = None, notifier: str | None = None, limit: int | None = 200
    ) -> list[Delivery]:
        query = _delivery_query()
        if status:
            query = query.where(deliveries.c.status == status)
        if notifier:
            query = query.where(deliveries.c.notifier == notifier)
        query = query.order_by(deliveries.c.id.desc())
        if limit:
            query = query.limit(limit)
        with self.engine.begin() as conn:
            return [_delivery(row) for row in conn.execute(query)]

    def retry(self, now: datetime, notifier: str | None = None, statuses: Sequence[str] = ("dead",)) -> int:
        """Put dead (or failed) deliveries back in the queue at once; returns how many."""
        condition: ColumnElement[bool] = deliveries.c.status.in_(list(statuses))
        if notifier:
            condition = and_(condition, deliveries.c.notifier == notifier)
        with self.engine.begin() as conn:
            result = conn.execute(
                update(deliveries)
                .where(condition)
                .values(status="pending", next_attempt_at=now, claimed_until=None, created_at=now)
            )
            return result.rowcount

    def counts(self) -> dict[tuple[str, str], int]:
        """Number of deliveries per (notifier, status)."""
        query = select(deliveries.c.notifier, deliveries.c.status, func.count()).group_by(
            deliveries.c.notifier, deliveries.c.status
        )
        with self.engine.begin() as conn:
            return {(row[0], row[1]): row[2] for row in conn.execute(query)}

    def messages_sent_since(self, notifier: str, since: datetime) -> int:
        """How many messages a notifier sent since a time (deliveries sent together share one sent_at)."""
        query = select(func.count(func.distinct(deliveries.c.sent_at))).where(
            deliveries.c.notifier == notifier, deliveries.c.status == "sent", deliveries.c.sent_at >= since
        )
        with self.engine.begin() as conn:
            return conn.scalar(query) or 0

    def last_digest(self, key: str) -> datetime | None:
        with self.engine.begin() as conn:
            return conn.scalar(
                select(notifier_state.c.last_digest_at).where(notifier_state.c.notifier == key)
            )

    def claim_sending(self, notifier: str, now: datetime, until: datetime) -> bool:
        """Hold a notifier for one send (a conditional UPDATE of its row): daemons sharing the database then send
        one digest per firing, one message per group, and count one hourly cap between them. A holder that
        died is ignored once its claim expires."""
        with self.engine.begin() as conn:
            if (
                conn.scalar(select(notifier_state.c.notifier).where(notifier_state.c.notifier == notifier))
                is None
            ):
                conn.execute(_insert_ignore(self.engine.dialect.name).values(notifier=notifier))
            taken = conn.execute(
                update(notifier_state)
                .where(
                    notifier_state.c.notifier == notifier,
                    or_(
                        notifier_state.c.sending_until.is_(None),
                        notifier_state.c.sending_until < now,
                        notifier_state.c.sending_by == self._sender,
                    ),
                )
                .values(sending_by=self._sender, sending_until=until)
            )
            return bool(taken.rowcount)

    def release_stale_sending(self, now: datetime, gone: Callable[[str], bool]) -> list[str]:
        """Free the notifiers held by senders that stopped (``gone(owner)``) or whose claim ran out; returns
        the notifiers freed."""
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(
                    notifier_state.c.notifier, notifier_state.c.sending_by, notifier_state.c.sending_until
                ).where(notifier_state.c.sending_by.is_not(None))
            ).all()
            stale = [
                r
                for r in rows
                if (r.sending_until is not None and r.sending_until < now) or gone(r.sending_by)
            ]
            for row in stale:
                conn.execute(
                    update(notifier_state)
                    .where(
                        notifier_state.c.notifier == row.notifier,
                        notifier_state.c.sending_by == row.sending_by,
                    )
                    .values(sending_by=None, sending_until=None)
                )
        return [row.notifier for row in stale]

    def release_sending(self, notifier: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(notifier_state)
                .where(notifier_state.c.notifier == notifier, notifier_state.c.sending_by == self._sender)
                .values(sending_by=None, sending_until=None)
            )

    def set_last_digest(self, key: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            updated = conn.execute(
                update(notifier_state).where(notifier_state.c.notifier == key).values(last_digest_at=at)
            )
            if updated.rowcount == 0:
                conn.execute(_insert_ignore(self.engine.dialect.name).values(notifier=key, last_digest_at=at))


def _insert_ignore(dialect: str) -> Any:
    """An INSERT that leaves an existing row alone (another daemon made it first). Each dialect's statement is
    imported when first used: a SQLite process never loads PostgreSQL's."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(notifier_state).on_conflict_do_nothing(index_elements=["notifier"])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(notifier_state).on_conflict_do_nothing(index_elements=["notifier"])


def _aware(value: datetime) -> datetime:
    """func.max loses the column type: SQLite gives the stored naive UTC time back."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _delivery_query() -> Any:
    return (
        hit_query()
        .add_columns(
            deliveries.c.id.label("delivery_id"),
            deliveries.c.notifier,
            deliveries.c.status,
            deliveries.c.attempts,
            deliveries.c.next_attempt_at,
            deliveries.c.last_error,
            deliveries.c.created_at,
            deliveries.c.sent_targets,
        )
        .join(deliveries, deliveries.c.hit_id == hits.c.id)
    )


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        id=row.delivery_id,
        hit=hit_from_row(row),
        notifier=row.notifier,
        status=row.status,
        attempts=row.attempts,
        next_attempt=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_targets=tuple(json.loads(row.sent_targets)),
    )
