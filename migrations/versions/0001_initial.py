"""Initial schema: feeds, articles, hits, deliveries, notifier state, daemon lock.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("current_url", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_polled_at", UTCDateTime),
        sa.Column("last_status", sa.String(20)),
        sa.Column("last_error", sa.Text),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("entries_seen", sa.Integer, nullable=False),
        sa.Column("next_poll_at", UTCDateTime),
        sa.Column("gone", sa.Boolean, nullable=False),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column("feed", sa.String(200), nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("guid", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.Text),
        sa.Column("sitename", sa.Text),
        sa.Column("published_at", UTCDateTime, nullable=False),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("fetch_error", sa.Text),
    )
    op.create_index("ix_articles_feed_published", "articles", ["feed", "published_at"])
    op.create_table(
        "hits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("watchlist", sa.String(200), nullable=False),
        sa.Column("matched", sa.Text, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("snippets", sa.Text, nullable=False),
        sa.Column("found_at", UTCDateTime, nullable=False),
        sa.Column("alerted", sa.Boolean, nullable=False),
        sa.UniqueConstraint("article_id", "watchlist", name="uq_hits_article_watchlist"),
    )
    op.create_index("ix_hits_watchlist_found", "hits", ["watchlist", "found_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("hit_id", sa.Integer, sa.ForeignKey("hits.id", ondelete="CASCADE"), nullable=False),
        sa.Column("notifier", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_targets", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("claimed_until", UTCDateTime),
        sa.UniqueConstraint("hit_id", "notifier", name="uq_deliveries_hit_notifier"),
    )
    op.create_index("ix_deliveries_status_next", "deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "notifier_state",
        sa.Column("notifier", sa.String(200), primary_key=True),
        sa.Column("last_digest_at", UTCDateTime),
    )
    op.create_table(
        "daemon",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("hostname", sa.Text, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("heartbeat_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("daemon", "notifier_state", "deliveries", "hits", "articles", "feeds"):
        op.drop_table(table)
