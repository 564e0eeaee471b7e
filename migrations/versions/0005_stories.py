"""Stories: canonical-URL aliases, Google News links kept as `via`, near-duplicate fingerprints and bands.

Revision ID: 0005
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("via", sa.Text()))
        batch.add_column(sa.Column("via_error", sa.Text()))
        batch.add_column(sa.Column("story_id", sa.Integer()))
        batch.add_column(sa.Column("signature", sa.LargeBinary()))
        batch.add_column(sa.Column("shingles", sa.Integer()))
        batch.create_index("ix_articles_story", ["story_id"])
    # Articles stored before stories existed are each a story of their own.
    op.execute("UPDATE articles SET story_id = id")
    with op.batch_alter_table("hits") as batch:
        batch.add_column(sa.Column("story_update", sa.Text()))
    op.create_table(
        "article_aliases",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column(
            "article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False
        ),
    )
    op.create_table(
        "story_bands",
        sa.Column("band", sa.BigInteger(), primary_key=True),
        sa.Column(
            "article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
        ),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("story_bands")
    op.drop_table("article_aliases")
    with op.batch_alter_table("hits") as batch:
        batch.drop_column("story_update")
    with op.batch_alter_table("articles") as batch:
        batch.drop_index("ix_articles_story")
        for column in ("shingles", "signature", "story_id", "via_error", "via"):
            batch.drop_column(column)
