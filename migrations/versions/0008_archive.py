"""The archive: a full-text index of every article, triage labels, and page captures kept as evidence.

The index is an FTS5 table on SQLite and a tsvector table with a GIN index on PostgreSQL (outside the table
metadata: autogenerate skips it). Existing articles are indexed here, in batches.

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.index import SearchIndex, create_statements, default_words
from monitor.store.tables import CleanText, UTCDateTime

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 1000


def upgrade() -> None:
    bind = op.get_bind()
    for statement in create_statements(bind.dialect.name):
        op.execute(statement)
    _backfill(bind)
    op.create_table(
        "hit_labels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("watchlist", CleanText, nullable=False),
        sa.Column("label", sa.String(20), nullable=False),
        sa.Column("note", CleanText),
        sa.Column("labelled_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("article_id", "watchlist", name="uq_hit_labels_article_watchlist"),
    )
    op.create_table(
        "captures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", CleanText, nullable=False),
        sa.Column("final_url", CleanText, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("headers", CleanText, nullable=False),
        sa.Column("body", sa.LargeBinary),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("fetched_at", UTCDateTime, nullable=False),
        sa.Column("text", CleanText),
        sa.Column("kind", sa.String(20), nullable=False, server_default="page"),
    )
    op.create_index("ix_captures_article", "captures", ["article_id", "fetched_at"])


def _backfill(bind: sa.Connection) -> None:
    index = SearchIndex(bind.dialect.name, default_words())
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, title, summary, text FROM articles WHERE id > :last ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": BACKFILL_BATCH},
        ).all()
        if not rows:
            return
        index.add(bind, [(row[0], row[1] or "", row[2] or "", row[3] or "") for row in rows])
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_captures_article", "captures")
    op.drop_table("captures")
    op.drop_table("hit_labels")
    op.execute("DROP TABLE article_index")
