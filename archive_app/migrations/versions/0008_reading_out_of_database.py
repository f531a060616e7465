"""suggestions move into the encrypted text object; reading flags on documents

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:50:00

Suggestions (values, the OCR lines they came from, confidences) are document text: they move
from the clear ``documents.suggestions`` column into each document's encrypted text object
(``archive_app.domain.reading``, version 2), where crypto-shredding reaches them. The move needs the
encrypted store: ``archive init`` passes it (``config.attributes["store"]``); a database with
suggestions to move and no store refuses to upgrade. The text objects replaced are deleted
only after the migration's transaction commits (``config.attributes["after_commit"]``), so a
failed upgrade leaves every row pointing at an object that exists.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _move_suggestions() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT d.id, d.suggestions, d.text_object_id, a.storage_id FROM documents d"
            " JOIN customer_archives a ON a.id = d.archive_id"
            " WHERE d.text_object_id IS NOT NULL"
        )
    ).all()
    pending = [row for row in rows if _loaded(row.suggestions)]
    if not pending:
        return
    attributes = op.get_context().config.attributes
    store = attributes.get("store")
    if store is None:
        raise RuntimeError(
            "moving metadata suggestions into the encrypted store needs the store: run "
            "`archive init` to upgrade this database"
        )
    replaced: list[tuple[str, str]] = []
    for row in pending:
        reading = json.loads(store.read_bytes(row.storage_id, row.text_object_id))
        reading["suggestions"] = _loaded(row.suggestions)
        (stored,) = store.put_many(
            row.storage_id, [[json.dumps(reading, ensure_ascii=False).encode()]]
        )
        connection.execute(
            sa.text("UPDATE documents SET text_object_id = :new WHERE id = :id"),
            {"new": stored.object_id, "id": row.id},
        )
        replaced.append((row.storage_id, row.text_object_id))

    def delete_replaced() -> None:
        for storage_id, object_id in replaced:
            if store.exists(storage_id, object_id):
                store.delete(storage_id, object_id)

    attributes.setdefault("after_commit", []).append(delete_replaced)


def _loaded(value: object) -> dict:
    if isinstance(value, str):
        value = json.loads(value or "{}")
    return value if isinstance(value, dict) and value else {}


# Plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch rebuild of
# ``documents`` would drop the table that checklist lines and versions reference, which
# SQLite refuses with foreign keys on.


def upgrade() -> None:
    _move_suggestions()
    op.execute("ALTER TABLE documents DROP COLUMN suggestions")
    op.add_column(
        "documents", sa.Column("unreadable_pages", sa.JSON(), nullable=False, server_default="[]")
    )
    op.add_column(
        "documents",
        sa.Column("misfiling_suspected", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # Suggestions stay in the encrypted text objects (version 2 keeps them); the column
    # comes back empty, as for documents processed before suggestions existed.
    op.execute("ALTER TABLE documents DROP COLUMN misfiling_suspected")
    op.execute("ALTER TABLE documents DROP COLUMN unreadable_pages")
    op.add_column(
        "documents", sa.Column("suggestions", sa.JSON(), nullable=False, server_default="{}")
    )
