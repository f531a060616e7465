"""reminders: notes name their subject and its level, are read per user; users get an
optional e-mail address

Revision ID: 0013_reminders
Revises: 0012_year_end_reviews
Create Date: 2026-12-03 14:00:00

``retention_notifications`` gains ``subject``, ``level`` and ``mailed_at`` and a unique index on (kind,
subject, day), which keeps the periodic reminders at one note per subject per day. Existing
notes keep an empty subject (an empty subject never collides). ``notification_reads`` holds
who read which note; the old instance-wide ``read_at`` stays, unwritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import archive_app.models.base

revision = "0013_reminders"
down_revision = "0012_year_end_reviews"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("retention_notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("level", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column(
                "mailed_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(
            "uq_retention_notifications_kind_subject_day",
            ["kind", "subject", "as_of"],
            unique=True,
        )
    op.create_table(
        "notification_reads",
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("read_at", archive_app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["retention_notifications.id"],
            name=op.f("fk_notification_reads_notification_id_retention_notifications"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_reads_user_id_users")
        ),
        sa.PrimaryKeyConstraint("notification_id", "user_id", name=op.f("pk_notification_reads")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    # Not a batch (copy and drop) of users: other tables reference it, and on SQLite the
    # drop of the old copy fails their foreign keys. Both databases drop a column in place.
    op.execute("ALTER TABLE users DROP COLUMN email")
    op.drop_table("notification_reads")
    with op.batch_alter_table("retention_notifications", schema=None) as batch_op:
        batch_op.drop_index("uq_retention_notifications_kind_subject_day")
        batch_op.drop_column("mailed_at")
        batch_op.drop_column("level")
        batch_op.drop_column("subject")
