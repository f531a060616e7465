"""inspection_runs: the history of the periodic inspection; notifications name a run

Revision ID: 0011_inspections
Revises: 0010_passwords
Create Date: 2026-12-04 10:00:00

A partial unique index keeps at most one run in state ``running``. The notifications
table (retention_notifications) gains ``inspection_run_id`` for the notes a failed
inspection raises; appraisal notes leave it empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import archive_app.models.base

revision = "0011_inspections"
down_revision = "0010_passwords"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum("scheduled", "manual", name="inspectiontrigger", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "running",
                "passed",
                "failed",
                "error",
                "interrupted",
                name="inspectionstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "heartbeat_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("finished_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("objects_checked", sa.Integer(), nullable=False),
        sa.Column("findings_count", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_inspection_runs_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["workers.id"], name=op.f("fk_inspection_runs_worker_id_workers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_runs")),
    )
    with op.batch_alter_table("inspection_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_runs_started_at"), ["started_at"], unique=False
        )
        batch_op.create_index(
            "uq_inspection_runs_one_running",
            ["state"],
            unique=True,
            sqlite_where=sa.text("state = 'running'"),
            postgresql_where=sa.text("state = 'running'"),
        )
    with op.batch_alter_table("retention_notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inspection_run_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_retention_notifications_inspection_run_id_inspection_runs"),
            "inspection_runs",
            ["inspection_run_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("retention_notifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_retention_notifications_inspection_run_id_inspection_runs"),
            type_="foreignkey",
        )
        batch_op.drop_column("inspection_run_id")
    with op.batch_alter_table("inspection_runs", schema=None) as batch_op:
        batch_op.drop_index("uq_inspection_runs_one_running")
        batch_op.drop_index(batch_op.f("ix_inspection_runs_started_at"))
    op.drop_table("inspection_runs")
