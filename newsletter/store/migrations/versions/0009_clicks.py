"""Clicks: aggregate counts per edition and item; per-reader clicks (opt-in setting)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "click_counts",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("last_clicked_at", newsletter.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_click_counts_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["edition_items.id"],
            name=op.f("fk_click_counts_item_id_edition_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("edition_id", "item_id", name=op.f("pk_click_counts")),
    )
    op.create_table(
        "reader_clicks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("clicked_at", newsletter.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_reader_clicks_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["edition_items.id"],
            name=op.f("fk_reader_clicks_item_id_edition_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_reader_clicks_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reader_clicks")),
    )
    op.create_index(
        op.f("ix_reader_clicks_edition_id"), "reader_clicks", ["edition_id"], unique=False
    )
    op.create_index(
        op.f("ix_reader_clicks_subscriber_id"), "reader_clicks", ["subscriber_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reader_clicks_subscriber_id"), table_name="reader_clicks")
    op.drop_index(op.f("ix_reader_clicks_edition_id"), table_name="reader_clicks")
    op.drop_table("reader_clicks")
    op.drop_table("click_counts")
