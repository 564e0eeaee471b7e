"""The database schema. Alembic migrations in migrations/ create exactly these tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC and gives them back aware: SQLite drops time zones silently."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass UTC-aware times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


metadata = MetaData()

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("current_url", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_polled_at", UTCDateTime),
    Column("last_status", String(20)),
    Column("last_error", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("entries_seen", Integer, nullable=False, default=0),
    Column("next_poll_at", UTCDateTime),
    Column("gone", Boolean, nullable=False, default=False),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", Text, nullable=False, unique=True),
    Column("feed", String(200), nullable=False),
    Column("url", Text),
    Column("guid", Text),
    Column("title", Text, nullable=False, default=""),
    Column("summary", Text, nullable=False, default=""),
    Column("text", Text, nullable=False, default=""),
    Column("author", Text),
    Column("sitename", Text),
    Column("published_at", UTCDateTime, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("fetch_error", Text),
    Index("ix_articles_feed_published", "feed", "published_at"),
)

hits = Table(
    "hits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("watchlist", String(200), nullable=False),
    Column("matched", Text, nullable=False),  # JSON list of the terms/clauses that matched
    Column("fields", Text, nullable=False, default="[]"),  # JSON list of the fields they were found in
    Column("snippets", Text, nullable=False),  # JSON list of {field, text, marks}
    Column("found_at", UTCDateTime, nullable=False),
    Column("alerted", Boolean, nullable=False),  # False: too old to alert, stored for the record
    UniqueConstraint("article_id", "watchlist", name="uq_hits_article_watchlist"),
    Index("ix_hits_watchlist_found", "watchlist", "found_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hit_id", Integer, ForeignKey("hits.id", ondelete="CASCADE"), nullable=False),
    Column("notifier", String(200), nullable=False),
    Column("status", String(20), nullable=False),  # pending, sent, failed, dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", Text),
    Column("sent_targets", Text, nullable=False, default="[]"),  # JSON list of URL indexes already delivered
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("claimed_until", UTCDateTime),  # a sender holds the row until then; a crash lets it expire
    UniqueConstraint("hit_id", "notifier", name="uq_deliveries_hit_notifier"),
    Index("ix_deliveries_status_next", "status", "next_attempt_at"),
)

notifier_state = Table(
    "notifier_state",
    metadata,
    Column("notifier", String(200), primary_key=True),
    Column("last_digest_at", UTCDateTime),
)

daemon = Table(
    "daemon",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1: one daemon per database
    Column("pid", Integer, nullable=False),
    Column("hostname", Text, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
)
