"""The one-daemon table ``daemon`` goes: nothing has written it since every running daemon registers in
``daemons`` (0011), which `monitor status` and the heartbeat gauge read.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("daemon")


def downgrade() -> None:
    op.create_table(
        "daemon",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
    )
