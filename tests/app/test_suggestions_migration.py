"""Migration 0008: suggestions kept in clear in ``documents.suggestions`` move into the
document's encrypted reading, on SQLite and PostgreSQL, when ``archive init`` upgrades."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from archive_app.domain.reading import load_reading
from archive_app.infra import schema
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import User
from archive_app.services.initialise import initialise
from tests.migrations import downgraded
from tests.retention_app.conftest import add_document, document_row, make_archive

OLD_SUGGESTIONS = {
    "fields": {"invoice_code": {"value": "3100212130", "snippet": "发票代码 3100212130"}}
}


def _as_before_0008(container: Container, number: str) -> tuple[str, str]:
    """The database at revision 0007 with the suggestions in clear, the reading without
    them (version 1), as the previous version left them: (storage id, old object id)."""
    row = document_row(container, number)
    with container.database.session() as session:
        storage_id = session.execute(
            text("SELECT a.storage_id FROM customer_archives a WHERE a.id = :id"),
            {"id": row.archive_id},
        ).scalar_one()
    reading = json.loads(container.store.read_bytes(storage_id, row.text_object_id))
    reading.pop("suggestions")
    reading["version"] = 1
    (old,) = container.store.put_many(storage_id, [[json.dumps(reading).encode()]])
    container.store.delete(storage_id, row.text_object_id)
    with downgraded(container.database.engine, "0007") as connection:
        connection.execute(
            text("UPDATE documents SET suggestions = :s, text_object_id = :t WHERE id = :id"),
            {
                "s": json.dumps(OLD_SUGGESTIONS, ensure_ascii=False),
                "t": old.object_id,
                "id": row.id,
            },
        )
    return storage_id, old.object_id


@pytest.mark.slow
def test_init_moves_clear_suggestions_into_the_encrypted_reading(
    container: Container, admin: User, settings: Settings, tmp_path: Path
):
    archive = make_archive(container, admin)
    number = add_document(
        container, admin, archive, "invoice", tmp_path, document_date=date(2026, 1, 5)
    )
    storage_id, old_object = _as_before_0008(container, number)
    with pytest.raises(RuntimeError, match="archive init"):
        schema.upgrade(container.database.engine)  # without the store it refuses

    initialise(settings, admin_password="admin-password-123")

    columns = {c["name"] for c in inspect(container.database.engine).get_columns("documents")}
    assert "suggestions" not in columns and "unreadable_pages" in columns
    row = document_row(container, number)
    assert row.text_object_id != old_object
    assert not container.store.exists(storage_id, old_object)  # the clear-free old reading
    reading = load_reading(container.store.read_bytes(storage_id, row.text_object_id))
    assert reading.suggestions == OLD_SUGGESTIONS
    assert reading.pages  # the text came along
