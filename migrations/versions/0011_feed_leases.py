"""Scale-out on PostgreSQL: feed leases with the next poll time on the database's clock, every running daemon
with its config fingerprint, and a notifier's send claim (one digest per firing, one hourly count).

Revision ID: 0011
Revises: 0010_web_indexes
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010_web_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_leases",
        sa.Column("feed", sa.Text(), primary_key=True),
        sa.Column("next_poll_at", sa.DateTime(), nullable=False),
        sa.Column("leased_by", sa.Text()),
        sa.Column("lease_expires", sa.DateTime()),
    )
    op.create_index("ix_feed_leases_next_poll", "feed_leases", ["next_poll_at"])
    op.create_table(
        "daemons",
        sa.Column("owner", sa.Text(), primary_key=True),
        sa.Column("hostname", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("config_fingerprint", sa.String(64), nullable=False),
        sa.Column("config_path", sa.Text(), nullable=False),
    )
    with op.batch_alter_table("notifier_state") as batch:
        batch.add_column(sa.Column("sending_by", sa.Text()))
        batch.add_column(sa.Column("sending_until", sa.DateTime()))


def downgrade() -> None:
    with op.batch_alter_table("notifier_state") as batch:
        batch.drop_column("sending_until")
        batch.drop_column("sending_by")
    op.drop_table("daemons")
    op.drop_index("ix_feed_leases_next_poll", table_name="feed_leases")
    op.drop_table("feed_leases")
