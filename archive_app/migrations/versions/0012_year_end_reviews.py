"""year_end_reviews: the signed-off year-end review (年终整理), one per year and scope

Revision ID: 0012_year_end_reviews
Revises: 0011_inspections
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import archive_app.models.base

revision = "0012_year_end_reviews"
down_revision = "0011_inspections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "year_end_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("figures_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["signed_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "scope", name="uq_year_end_reviews_year_scope"),
    )


def downgrade() -> None:
    op.drop_table("year_end_reviews")
