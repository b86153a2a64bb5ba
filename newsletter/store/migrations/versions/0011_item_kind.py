"""edition_items.kind: what each item is (news, live, opinion, podcast, gallery, listicle,
series), for the editors and compose --json

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Items stored before: their kind was not kept; "news" is what most of them were.
    with op.batch_alter_table("edition_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="news")
        )


def downgrade() -> None:
    with op.batch_alter_table("edition_items", schema=None) as batch_op:
        batch_op.drop_column("kind")
