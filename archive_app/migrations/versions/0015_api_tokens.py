"""api tokens: per-user bearer tokens for /api/v1, stored as their SHA-256

Revision ID: 0015_api_tokens
Revises: 0014_foreign_invoices
Create Date: 2026-12-03 15:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import archive_app.models.base

revision = "0015_api_tokens"
down_revision = "0014_foreign_invoices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_used_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("revoked_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))
    op.drop_table("api_tokens")
