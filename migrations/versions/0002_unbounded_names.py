"""Names (feeds, watchlists, notifiers, digest keys) are unbounded text, as the config allows.

The initial schema declared them VARCHAR(200). SQLite never enforced that length; PostgreSQL does, and a digest
key is "notifier/watchlist", so the columns become TEXT there. Nothing changes on SQLite.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NAME_COLUMNS = [
    ("feeds", "name"),
    ("articles", "feed"),
    ("hits", "watchlist"),
    ("deliveries", "notifier"),
    ("notifier_state", "notifier"),
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in NAME_COLUMNS:
        op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(200))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in NAME_COLUMNS:
        op.alter_column(table, column, type_=sa.String(200), existing_type=sa.Text())
