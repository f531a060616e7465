"""worker registry, document claims and objects in flight

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import archive_app.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "worker", "embedded", "inline", name="workerkind", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("parent_pid", sa.Integer(), nullable=True),
        sa.Column("started_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "heartbeat_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("stopped_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("stop_reason", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workers_heartbeat_at"), ["heartbeat_at"], unique=False)

    op.create_table(
        "pending_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("storage_id", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=128), nullable=False),
        sa.Column("owner_hostname", sa.String(length=255), nullable=False),
        sa.Column("owner_pid", sa.Integer(), nullable=False),
        sa.Column("created_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "reclaimed_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_objects")),
        sa.UniqueConstraint("storage_id", "object_id", name=op.f("uq_pending_objects_storage_id")),
    )
    with op.batch_alter_table("pending_objects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_objects_created_at"), ["created_at"], unique=False
        )

    # Plain ADD COLUMNs, also on SQLite: rebuilding `documents` (batch mode) drops a table
    # that other tables' rows reference, which SQLite refuses with foreign keys on, so an
    # instance holding documents could not be upgraded (nor an older backup restored).
    name = op.f("fk_documents_claimed_by_id_workers")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE documents ADD COLUMN claimed_by_id INTEGER "
            f"CONSTRAINT {name} REFERENCES workers (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("documents", sa.Column("claimed_by_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            name, "documents", "workers", ["claimed_by_id"], ["id"], ondelete="SET NULL"
        )
    op.add_column(
        "documents",
        sa.Column("claimed_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "documents", sa.Column("interruptions", sa.Integer(), nullable=False, server_default="0")
    )
    op.create_index(
        op.f("ix_documents_claimed_by_id"), "documents", ["claimed_by_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_documents_claimed_by_id"), table_name="documents")
    if op.get_bind().dialect.name != "sqlite":  # SQLite drops it with its column
        op.drop_constraint(
            op.f("fk_documents_claimed_by_id_workers"), "documents", type_="foreignkey"
        )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("interruptions")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by_id")
    with op.batch_alter_table("pending_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_objects_created_at"))
    op.drop_table("pending_objects")
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workers_heartbeat_at"))
    op.drop_table("workers")
