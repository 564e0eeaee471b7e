"""Indexes for the web desk: hits newest first across every watchlist, and articles by the time they were
first seen with their story (the stories listing walks it newest first instead of grouping every article).

Revision ID: 0010_web_indexes
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0010_web_indexes"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_hits_found", "hits", ["found_at", "id"])
    op.create_index("ix_articles_seen_story", "articles", ["first_seen_at", "story_id"])


def downgrade() -> None:
    op.drop_index("ix_articles_seen_story", table_name="articles")
    op.drop_index("ix_hits_found", table_name="hits")
