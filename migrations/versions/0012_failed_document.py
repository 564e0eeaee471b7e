"""A feed whose last document failed to parse remembers it by a digest (and keeps its validators), so that the
same document coming back (a 304, or the same bytes) is reported failing again without being parsed again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("failed_digest", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("failed_digest")
