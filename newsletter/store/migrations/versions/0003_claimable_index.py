"""a partial index on the claimable deliveries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CLAIMABLE = sa.text("status IN ('pending', 'deferred')")


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_claimable",
        "deliveries",
        ["edition_id", "id"],
        unique=False,
        postgresql_where=CLAIMABLE,
        sqlite_where=CLAIMABLE,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_claimable", table_name="deliveries")
