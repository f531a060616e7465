"""Which stored objects live records reference: the one question the inspection and
recovery both ask before calling an object unreferenced."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from archive_app.models import CustomerArchive, Document, DocumentVersion


def referenced_objects(session: Session, storage_id: str, object_ids: Sequence[str]) -> set[str]:
    """Which of ``object_ids`` a live document or version of the archive references."""
    live_document = (
        select(Document.id)
        .join(CustomerArchive, Document.archive_id == CustomerArchive.id)
        .where(CustomerArchive.storage_id == storage_id, Document.destroyed_at.is_(None))
    )
    selects = []
    for table in (Document, DocumentVersion):
        owner = table.id if table is Document else table.document_id
        for column in (table.original_object_id, table.text_object_id, table.rendition_object_id):
            selects.append(
                select(column.label("object_id")).where(
                    column.in_(object_ids), owner.in_(live_document)
                )
            )
    return {object_id for (object_id,) in session.execute(union_all(*selects))}
