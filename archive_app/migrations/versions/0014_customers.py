"""customers: industry, region and tags

Revision ID: 0014_customers
Revises: 0013_reminders
Create Date: 2026-12-03 15:45:00

``customer_archives`` gains ``industry`` and ``region`` (indexed: the archive list filters and
groups by them); existing archives get empty values. ``customer_tags`` holds one row per tag
of a customer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_customers"
down_revision = "0013_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_archives", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("industry", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("region", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.create_index("ix_customer_archives_industry", ["industry"])
        batch_op.create_index("ix_customer_archives_region", ["region"])
    op.create_table(
        "customer_tags",
        sa.Column(
            "archive_id",
            sa.Integer(),
            sa.ForeignKey("customer_archives.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(length=60), primary_key=True),
    )
    op.create_index("ix_customer_tags_tag", "customer_tags", ["tag"])


def downgrade() -> None:
    op.drop_index("ix_customer_tags_tag", table_name="customer_tags")
    op.drop_table("customer_tags")
    with op.batch_alter_table("customer_archives", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_archives_region")
        batch_op.drop_index("ix_customer_archives_industry")
        batch_op.drop_column("region")
        batch_op.drop_column("industry")
