"""The database schema. Alembic migrations in migrations/ create exactly these tables (on SQLite the name
columns keep the VARCHAR(200) of the first migration, a length SQLite never enforces)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
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


class CleanText(TypeDecorator[str]):
    """Text that PostgreSQL accepts: it refuses NUL characters, which a JSON Feed or a page may carry, so they
    are dropped there. SQLite stores the text as given."""

    impl = Text
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """None (no call for every value written) where there is nothing to clean."""
        return super().bind_processor(dialect) if dialect.name == "postgresql" else None

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is not None and dialect.name == "postgresql" and "\x00" in value:
            return value.replace("\x00", "")
        return value


metadata = MetaData()

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", CleanText, nullable=False, unique=True),
    Column("url", CleanText, nullable=False),
    Column("current_url", CleanText),
    Column("etag", CleanText),
    Column("last_modified", CleanText),
    Column("last_polled_at", UTCDateTime),
    Column("last_status", String(20)),
    Column("last_error", CleanText),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("entries_seen", Integer, nullable=False, default=0),
    Column("next_poll_at", UTCDateTime),
    Column("gone", Boolean, nullable=False, default=False),
    # The digest of the last document when it failed to parse (etag and last_modified then name it too).
    Column("failed_digest", String(64)),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", CleanText, nullable=False, unique=True),
    Column("feed", CleanText, nullable=False),
    Column("url", CleanText),
    Column("guid", CleanText),
    Column("title", CleanText, nullable=False, default=""),
    Column("summary", CleanText, nullable=False, default=""),
    Column("text", CleanText, nullable=False, default=""),
    Column("author", CleanText),
    Column("sitename", CleanText),
    Column("published_at", UTCDateTime, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("fetch_error", CleanText),
    Column("language", String(16)),  # ISO 639-1, None when the detector was unsure
    Column("fingerprint", String(64)),  # of title, summary and text: a changed entry is matched again
    Column("updated_at", UTCDateTime),  # when a changed version last replaced the text
    Column("via", CleanText),  # the aggregator (Google News) link the article came through
    Column("via_error", CleanText),  # why that link could not be resolved to the publisher's
    Column("story_id", Integer),  # the id of the story's first article; its own id when it is the first
    Column("signature", LargeBinary),  # MinHash signature (monitor.stories); NULL for texts too short
    Column("shingles", Integer),  # distinct word shingles the signature was made of
    Index("ix_articles_feed_published", "feed", "published_at"),
    Index("ix_articles_story", "story_id"),
    Index("ix_articles_seen_story", "first_seen_at", "story_id"),
)

# Other keys an article is known by: the feed's link when the page declared another canonical URL.
article_aliases = Table(
    "article_aliases",
    metadata,
    Column("key", CleanText, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
)

# The LSH bands of each fingerprinted article: articles sharing a band are candidates of one story.
story_bands = Table(
    "story_bands",
    metadata,
    Column("band", BigInteger, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sqlite_with_rowid=False,  # one B-tree, the key itself: half the pages written per insert
)

hits = Table(
    "hits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("watchlist", CleanText, nullable=False),
    Column("matched", CleanText, nullable=False),  # JSON list of the terms/clauses that matched
    Column("fields", CleanText, nullable=False, default="[]"),  # JSON list of the fields they were found in
    Column("snippets", CleanText, nullable=False),  # JSON list of {field, text, marks}
    Column("found_at", UTCDateTime, nullable=False),
    Column("alerted", Boolean, nullable=False),  # False: too old to alert, or a copy adding nothing new
    Column("found_as", CleanText, nullable=False, server_default="[]"),  # JSON list: exact, alias or stem
    Column("on_update", Boolean, nullable=False, server_default=false()),  # found when the article changed
    Column("story_update", CleanText),  # JSON {"new_terms": [...], "new_watchlist": bool} for a story update
    UniqueConstraint("article_id", "watchlist", name="uq_hits_article_watchlist"),
    Index("ix_hits_watchlist_found", "watchlist", "found_at"),
    Index("ix_hits_found", "found_at", "id"),
)

# The earlier versions of an article whose entry came back changed: kept as evidence of what changed.
article_versions = Table(
    "article_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("title", CleanText, nullable=False),
    Column("summary", CleanText, nullable=False),
    Column("text", CleanText, nullable=False),
    Column("fingerprint", String(64)),
    Column("replaced_at", UTCDateTime, nullable=False),
    Index("ix_article_versions_article", "article_id"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hit_id", Integer, ForeignKey("hits.id", ondelete="CASCADE"), nullable=False),
    Column("notifier", CleanText, nullable=False),
    Column("status", String(20), nullable=False),  # pending, sent, failed, dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", CleanText),
    Column(
        "sent_targets", CleanText, nullable=False, default="[]"
    ),  # JSON list of URL indexes already delivered
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("claimed_until", UTCDateTime),  # a sender holds the row until then; a crash lets it expire
    Column("claimed_by", CleanText),  # the sender holding it: "host:pid:process start"
    UniqueConstraint("hit_id", "notifier", name="uq_deliveries_hit_notifier"),
    Index("ix_deliveries_status_next", "status", "next_attempt_at"),
)

page_retries = Table(
    "page_retries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("feed", CleanText, nullable=False),
    Column("url", CleanText, nullable=False),
    Column("linked_from", CleanText),
    Column("failures", Integer, nullable=False),
    Column("crashes", Integer, nullable=False),
    Column("first_failed_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),  # moved ahead while a process fetches it
    Column("last_error", CleanText),
    Index("ix_page_retries_next", "next_attempt_at"),
)

notifier_state = Table(
    "notifier_state",
    metadata,
    Column("notifier", CleanText, primary_key=True),
    Column("last_digest_at", UTCDateTime),
    # A daemon sending for this notifier holds it until then, so that daemons sharing the database send one
    # digest per firing and count one hourly cap between them (see monitor.store.send_claims).
    Column("sending_by", CleanText),
    Column("sending_until", UTCDateTime),
)

# Every daemon running on the database (several on PostgreSQL), keyed by its owner id (monitor.claims).
daemons = Table(
    "daemons",
    metadata,
    Column("owner", CleanText, primary_key=True),
    Column("hostname", CleanText, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),  # the database's clock
    Column("config_fingerprint", String(64), nullable=False),
    Column("config_path", CleanText, nullable=False),
)

# PostgreSQL scale-out: which daemon polls a feed now (until lease_expires) and when the feed is next due.
# Both times are on the database's clock, never a daemon's.
feed_leases = Table(
    "feed_leases",
    metadata,
    Column("feed", CleanText, primary_key=True),
    Column("next_poll_at", UTCDateTime, nullable=False),
    Column("leased_by", CleanText),
    Column("lease_expires", UTCDateTime),
    Index("ix_feed_leases_next_poll", "next_poll_at"),
)


# Triage labels, kept by article and watchlist rather than by hit id, so that they outlive a re-match.
hit_labels = Table(
    "hit_labels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("watchlist", CleanText, nullable=False),
    Column("label", String(20), nullable=False),  # relevant, irrelevant, unsure
    Column("note", CleanText),
    Column("labelled_at", UTCDateTime, nullable=False),
    UniqueConstraint("article_id", "watchlist", name="uq_hit_labels_article_watchlist"),
)

# Evidence: each fetch of a page behind a hit, as served, and the text extracted from it (one version each).
captures = Table(
    "captures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("url", CleanText, nullable=False),  # as asked for
    Column("final_url", CleanText, nullable=False),  # after redirects
    Column("status", Integer, nullable=False),
    Column("headers", CleanText, nullable=False),  # JSON object of the response headers
    Column("body", LargeBinary),  # zlib-compressed response body; None once pruned
    Column("sha256", String(64), nullable=False),  # of the uncompressed body
    Column("size", Integer, nullable=False),  # bytes of the uncompressed body
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("text", CleanText),  # the text extracted from this body: one version of the article
    Column(
        "kind", String(20), nullable=False, default="page"
    ),  # page, unchanged, changed, removed (rechecks)
    Index("ix_captures_article", "article_id", "fetched_at"),
)

# Per feed: the recent new-entry times and page samples that source health is judged on, and the health
# state last told to the health notifiers.
feed_health = Table(
    "feed_health",
    metadata,
    Column("feed", CleanText, primary_key=True),
    Column("entry_times", Text, nullable=False, default="[]"),  # JSON list of ISO times, oldest first
    Column("pages", Text, nullable=False, default="[]"),  # JSON list of [fulltext, paywall_marker]
    Column("told_state", String(40)),
    Column("page_text", Text),  # a [[page]] in text mode: its main text at the last poll
)
