"""catalogue: tags and notes on documents, saved searches per user

Revision ID: 0017_tags_notes_searches
Revises: 0016_customers
Create Date: 2026-12-03 15:30:00

Three new tables; nothing existing changes. ``document_tags`` (one row per document and
tag name), ``document_notes`` (author, time, text) and ``saved_searches`` (name unique per
owner, the search form's fields as JSON, shared or not).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import archive_app.models.base

revision = "0017_tags_notes_searches"
down_revision = "0016_customers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_tags",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("tagged_by_id", sa.Integer(), nullable=False),
        sa.Column("tagged_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tagged_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("document_id", "name"),
    )
    op.create_index("ix_document_tags_name", "document_tags", ["name"])
    op.create_table(
        "document_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_document_notes_document_id", "document_notes", ["document_id"])
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("shared", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "name", name="uq_saved_searches_owner_name"),
    )
    op.create_index("ix_saved_searches_owner_id", "saved_searches", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_saved_searches_owner_id", table_name="saved_searches")
    op.drop_table("saved_searches")
    op.drop_index("ix_document_notes_document_id", table_name="document_notes")
    op.drop_table("document_notes")
    op.drop_index("ix_document_tags_name", table_name="document_tags")
    op.drop_table("document_tags")
