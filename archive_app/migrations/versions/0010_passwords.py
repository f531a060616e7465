"""users.must_change_password: a reset or generated password is changed at the next login

Revision ID: 0010_passwords
Revises: 0009_audit_outcome
Create Date: 2026-12-03 13:00:00

Existing accounts keep their passwords and are not asked to change them (false): nothing
records whether an existing admin password was the generated one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_passwords"
down_revision = "0009_audit_outcome"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN must_change_password")
