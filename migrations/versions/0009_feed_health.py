"""Source health: each feed's recent new-entry times and page samples, and the health state last told; the
last text of a [[page]] followed in text mode.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_health",
        sa.Column("feed", sa.Text(), primary_key=True),
        sa.Column("entry_times", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("pages", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("told_state", sa.String(40)),
        sa.Column("page_text", sa.Text()),
    )


def downgrade() -> None:
    op.drop_table("feed_health")
