"""destruction plans: an execution's decision, committed before any key is destroyed

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:15:44.570399
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import archive_app.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "destruction_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.String(length=64), nullable=False),
        sa.Column("executor_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "completed_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("ledger_seq", sa.Integer(), nullable=False),
        sa.Column("ledger_sha256", sa.String(length=64), nullable=False),
        sa.Column("ledger_entry", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["disposition_batches.id"],
            name=op.f("fk_destruction_plans_batch_id_disposition_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["executor_id"], ["users.id"], name=op.f("fk_destruction_plans_executor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destruction_plans")),
        sa.UniqueConstraint("batch_id", name=op.f("uq_destruction_plans_batch_id")),
        sa.UniqueConstraint("certificate_id", name=op.f("uq_destruction_plans_certificate_id")),
        sa.UniqueConstraint("ledger_seq", name=op.f("uq_destruction_plans_ledger_seq")),
    )
    op.create_index(
        op.f("ix_destruction_plans_state"), "destruction_plans", ["state"], unique=False
    )
    # A plain ADD COLUMN, also on SQLite: rebuilding `documents` (batch mode) would drop a
    # table that other tables' rows reference, which SQLite refuses with foreign keys on;
    # SQLite takes the reference inside the column definition only.
    name = op.f("fk_documents_destruction_plan_id_destruction_plans")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE documents ADD COLUMN destruction_plan_id INTEGER "
            f"CONSTRAINT {name} REFERENCES destruction_plans (id)"
        )
    else:
        op.add_column("documents", sa.Column("destruction_plan_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            name, "documents", "destruction_plans", ["destruction_plan_id"], ["id"]
        )
    op.create_index(
        op.f("ix_documents_destruction_plan_id"),
        "documents",
        ["destruction_plan_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_documents_destruction_plan_id"), table_name="documents")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("destruction_plan_id")
    op.drop_index(op.f("ix_destruction_plans_state"), table_name="destruction_plans")
    op.drop_table("destruction_plans")
