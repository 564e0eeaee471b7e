"""Recall: each article's language and content fingerprint, how each hit's terms were found, hits on updated
articles, and the earlier versions of updated articles.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("language", sa.String(16)))
        batch.add_column(sa.Column("fingerprint", sa.String(64)))
        batch.add_column(sa.Column("updated_at", UTCDateTime))
    with op.batch_alter_table("hits") as batch:
        batch.add_column(sa.Column("found_as", sa.Text, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("on_update", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("replaced_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_article_versions_article", "article_versions", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_article_versions_article", "article_versions")
    op.drop_table("article_versions")
    with op.batch_alter_table("hits") as batch:
        batch.drop_column("on_update")
        batch.drop_column("found_as")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("fingerprint")
        batch.drop_column("language")
