"""subscriber preferences, editors' approval, provider events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(
            sa.Column("frequency", sa.String(length=16), nullable=False, server_default="daily")
        )
        batch.add_column(sa.Column("weekday", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("paused_until", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("format", sa.String(length=8), nullable=False, server_default="html")
        )
        batch.add_column(
            sa.Column("soft_bounces", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("editions") as batch:
        batch.add_column(sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(
            sa.Column("approved_at", newsletter.store.types.UTCDateTime(), nullable=True)
        )
        batch.add_column(sa.Column("approved_by", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("paused_reason", sa.Text(), nullable=True))
    op.create_table(
        "provider_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("event_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("received_at", newsletter.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_events")),
        sa.UniqueConstraint("provider", "event_key", name="uq_provider_events_provider_event_key"),
    )
    op.create_index(
        op.f("ix_provider_events_email_key"), "provider_events", ["email_key"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_provider_events_email_key"), table_name="provider_events")
    op.drop_table("provider_events")
    with op.batch_alter_table("editions") as batch:
        batch.drop_column("paused_reason")
        batch.drop_column("approved_by")
        batch.drop_column("approved_at")
        batch.drop_column("held")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("soft_bounces")
        batch.drop_column("format")
        batch.drop_column("paused_until")
        batch.drop_column("weekday")
        batch.drop_column("frequency")
