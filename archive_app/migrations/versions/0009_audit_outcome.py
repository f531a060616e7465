"""audit entries get an outcome (ok, refused, failed) and the viewer's indexes

Revision ID: 0009_audit_outcome
Revises: 0008
Create Date: 2026-12-08 10:00:00

Existing entries are all ``ok``: the hash of an ``ok`` entry does not cover the outcome,
so their hashes stay valid and the chain verifies unchanged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_audit_outcome"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=16), nullable=False, server_default="ok")
        )
        batch_op.create_index("ix_audit_entries_actor_name_seq", ["actor_name", "seq"])
        batch_op.create_index("ix_audit_entries_outcome_seq", ["outcome", "seq"])
        batch_op.create_index("ix_audit_entries_at", ["at"])


def downgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_at")
        batch_op.drop_index("ix_audit_entries_outcome_seq")
        batch_op.drop_index("ix_audit_entries_actor_name_seq")
        batch_op.drop_column("outcome")
