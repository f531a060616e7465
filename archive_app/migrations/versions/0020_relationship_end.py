"""customer archives: the end of the business relationship

Revision ID: 0020_relationship_end
Revises: 0019_class_catalogue
Create Date: 2026-12-03 16:50:00

``customer_archives.relationship_end`` (a date, empty for existing archives) dates the
``relationship_end`` trigger event of the customer's records.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_relationship_end"
down_revision = "0019_class_catalogue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customer_archives", sa.Column("relationship_end", sa.Date(), nullable=True))


def downgrade() -> None:
    # In place, not a batch copy: documents reference customer_archives (see 0016).
    op.execute("ALTER TABLE customer_archives DROP COLUMN relationship_end")
