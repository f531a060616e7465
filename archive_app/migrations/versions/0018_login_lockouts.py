"""login lockouts: users gain ``locked_until`` and ``unlocked_at``

Revision ID: 0018_login_lockouts
Revises: 0017_tags_notes_searches
Create Date: 2026-12-03 16:30:00

Too many failed logins lock an account until ``locked_until``; ``unlocked_at`` is the last
unlock (by time or by an admin), from which failed logins are counted afresh.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import archive_app.models.base

revision = "0018_login_lockouts"
down_revision = "0017_tags_notes_searches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "locked_until", archive_app.models.base.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "unlocked_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    # In place, not a batch copy of users: other tables reference it (see 0013).
    op.execute("ALTER TABLE users DROP COLUMN unlocked_at")
    op.execute("ALTER TABLE users DROP COLUMN locked_until")
