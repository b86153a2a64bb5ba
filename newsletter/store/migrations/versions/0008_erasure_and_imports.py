"""Erasure and background imports: a delivery outlives its subscriber (no address kept),
and the table of subscriber imports run in the background

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CLAIMABLE = sa.text("status IN ('pending', 'deferred')")
FK = "fk_deliveries_subscriber_id_subscribers"


def _deliveries_subscriber(nullable: bool, ondelete: str) -> None:
    """Recreate the deliveries' foreign key to subscribers with ``ondelete`` (SQLite:
    the table is rebuilt, its partial index dropped first and made again after)."""
    op.drop_index("ix_deliveries_claimable", table_name="deliveries")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")
        batch_op.alter_column("subscriber_id", existing_type=sa.Integer(), nullable=nullable)
        batch_op.create_foreign_key(FK, "subscribers", ["subscriber_id"], ["id"],
                                    ondelete=ondelete)  # fmt: skip
    op.create_index("ix_deliveries_claimable", "deliveries", ["edition_id", "id"], unique=False,
                    postgresql_where=CLAIMABLE, sqlite_where=CLAIMABLE)  # fmt: skip


def upgrade() -> None:
    _deliveries_subscriber(True, "SET NULL")
    op.create_table(
        "subscriber_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("created_at", newsletter.store.types.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", newsletter.store.types.UTCDateTime(), nullable=True),
        sa.Column("finished_at", newsletter.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber_imports")),
    )


def downgrade() -> None:
    op.drop_table("subscriber_imports")
    op.execute("DELETE FROM deliveries WHERE subscriber_id IS NULL")
    _deliveries_subscriber(False, "CASCADE")
