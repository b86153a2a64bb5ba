"""deliveries.first_deferred_at: when the provider first deferred a delivery (its retries
stop NEWSLETTER_RETRY_HOURS later)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "first_deferred_at",
                newsletter.store.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
    # Rows deferred already: their last claim is the best known start of their retries.
    op.execute(
        "UPDATE deliveries SET first_deferred_at = COALESCE(claimed_at, created_at) "
        "WHERE status = 'deferred'"
    )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("first_deferred_at")
