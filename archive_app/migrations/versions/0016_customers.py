"""customers: industry, region, tags and consent records

Revision ID: 0016_customers
Revises: 0015_api_tokens
Create Date: 2026-12-03 15:45:00

``customer_archives`` gains ``industry`` and ``region`` (indexed: the archive list filters and
groups by them); existing archives get empty values. ``customer_tags`` holds one row per tag
of a customer, ``customer_consents`` the customer's consents to processing personal data.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import archive_app.models.base

revision = "0016_customers"
down_revision = "0015_api_tokens"
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
    op.create_table(
        "customer_consents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "archive_id", sa.Integer(), sa.ForeignKey("customer_archives.id"), nullable=False
        ),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("withdrawal_channel", sa.String(length=100), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column(
            "recorded_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False
        ),
    )
    op.create_index("ix_customer_consents_archive_id", "customer_consents", ["archive_id"])


def downgrade() -> None:
    op.drop_index("ix_customer_consents_archive_id", table_name="customer_consents")
    op.drop_table("customer_consents")
    op.drop_index("ix_customer_tags_tag", table_name="customer_tags")
    op.drop_table("customer_tags")
    # Not a batch (copy and drop) of customer_archives: documents reference it, and on
    # SQLite the drop of the old copy fails their foreign keys. Columns are dropped in place.
    op.drop_index("ix_customer_archives_region", table_name="customer_archives")
    op.drop_index("ix_customer_archives_industry", table_name="customer_archives")
    op.execute("ALTER TABLE customer_archives DROP COLUMN region")
    op.execute("ALTER TABLE customer_archives DROP COLUMN industry")
