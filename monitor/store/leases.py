"""Feed leases on PostgreSQL: several daemons share one database, each feed polled by one of them at a time.

A daemon claims due feeds in batches (``SELECT ... FOR UPDATE SKIP LOCKED``, so concurrent claims never wait
for nor take each other's rows), renews its leases while their polls run, and on release writes the feed's
next poll time. Every time is the database's clock (``now()``): a daemon whose clock jumps can neither keep a
lease past its expiry nor take a feed before another daemon's lease has run out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Engine, Text, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert

from monitor.lease_plan import may_store
from monitor.store.tables import feed_leases


def db_now() -> ColumnElement[datetime]:
    """The database's clock in UTC (the start of the current transaction), as the naive UTC the tables keep."""
    return func.timezone("UTC", func.now())


def after(seconds: float) -> ColumnElement[datetime]:
    """The database's clock plus ``seconds``."""
    return db_now() + func.make_interval(0, 0, 0, 0, 0, 0, float(seconds))


def _names(names: Iterable[str]) -> ColumnElement[bool]:
    return feed_leases.c.feed == any_(bindparam("names", list(names), type_=ARRAY(Text())))


class FeedLeases:
    """The lease table, seen by one daemon (``owner``: its id from monitor.claims)."""

    def __init__(self, engine: Engine, owner: str) -> None:
        self.engine = engine
        self.owner = owner

    def now(self) -> datetime:
        with self.engine.begin() as conn:
            value = conn.scalar(select(db_now()))
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)

    def add_missing(self, first_poll_in: Mapping[str, float]) -> int:
        """Give every feed without a lease row one, first due ``first_poll_in[name]`` seconds from now. Feeds
        already there keep their schedule (another daemon, or this one before a restart, set it)."""
        if not first_poll_in:
            return 0
        statement = (
            postgresql_insert(feed_leases)
            .values(
                feed=bindparam("name"),
                next_poll_at=db_now() + func.make_interval(0, 0, 0, 0, 0, 0, bindparam("offset")),
            )
            .on_conflict_do_nothing(index_elements=["feed"])
        )
        rows = [{"name": name, "offset": float(offset)} for name, offset in first_poll_in.items()]
        with self.engine.begin() as conn:
            return conn.execute(statement, rows).rowcount or 0

    def known(self) -> set[str]:
        with self.engine.begin() as conn:
            return set(conn.scalars(select(feed_leases.c.feed)))

    def claim(self, names: Sequence[str], count: int, lease: float) -> list[str]:
        """Take up to ``count`` of the named feeds that are due and that nobody holds, the longest overdue
        first, for ``lease`` seconds. Rows another transaction is claiming are skipped, not waited for."""
        if count <= 0 or not names:
            return []
        now = db_now()
        due = (
            select(feed_leases.c.feed)
            .where(
                _names(names),
                feed_leases.c.next_poll_at <= now,  # due exactly now is due (lease_plan.is_due)
                (feed_leases.c.leased_by.is_(None))
                | (feed_leases.c.lease_expires.is_(None))
                | (
                    feed_leases.c.lease_expires <= now
                ),  # expiring exactly now is free (lease_plan.lease_free)
            )
            .order_by(feed_leases.c.next_poll_at)
            .limit(count)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(feed_leases)
            .where(feed_leases.c.feed.in_(due.scalar_subquery()))
            .values(leased_by=self.owner, lease_expires=after(lease))
            .returning(feed_leases.c.feed)
        )
        with self.engine.begin() as conn:
            return sorted(conn.scalars(statement))

    def renew(self, names: Iterable[str], lease: float) -> set[str]:
        """Extend the leases this daemon still holds on ``names``; returns those (a lease that ran out and was
        taken by another daemon is not among them)."""
        wanted = list(names)
        if not wanted:
            return set()
        statement = (
            update(feed_leases)
            .where(
                _names(wanted), feed_leases.c.leased_by == self.owner, feed_leases.c.lease_expires > db_now()
            )
            .values(lease_expires=after(lease))
            .returning(feed_leases.c.feed)
        )
        with self.engine.begin() as conn:
            return set(conn.scalars(statement))

    def holds(self, name: str, margin: float) -> bool:
        """Whether this daemon still holds the feed's lease with ``margin`` seconds left (lease_plan.may_store)."""
        query = select(feed_leases.c.leased_by, feed_leases.c.lease_expires, db_now()).where(
            feed_leases.c.feed == name
        )
        with self.engine.begin() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            return False
        holder, expires, now = row
        return may_store(holder, expires, self.owner, now.replace(tzinfo=UTC), margin)

    def release(self, name: str, next_poll_in: float) -> bool:
        """Let the feed go and make it due ``next_poll_in`` seconds from now (the database's now). Nothing
        changes when the lease was lost meanwhile: its new holder sets the schedule."""
        statement = (
            update(feed_leases)
            .where(feed_leases.c.feed == name, feed_leases.c.leased_by == self.owner)
            .values(leased_by=None, lease_expires=None, next_poll_at=after(next_poll_in))
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(statement).rowcount)

    def release_all(self) -> int:
        """Let every feed this daemon holds go at once (a clean stop), keeping their schedules."""
        statement = (
            update(feed_leases)
            .where(feed_leases.c.leased_by == self.owner)
            .values(leased_by=None, lease_expires=None)
        )
        with self.engine.begin() as conn:
            return conn.execute(statement).rowcount or 0

    def held_counts(self) -> dict[str, int]:
        """Live leases by holder."""
        query = (
            select(feed_leases.c.leased_by, func.count())
            .where(feed_leases.c.leased_by.is_not(None), feed_leases.c.lease_expires > db_now())
            .group_by(feed_leases.c.leased_by)
        )
        with self.engine.begin() as conn:
            return {row[0]: row[1] for row in conn.execute(query)}
