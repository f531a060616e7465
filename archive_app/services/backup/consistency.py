"""Whether a backup's database copy and key-store copy belong together.

The database is copied before the key store, and a put commits its key before the row that
references the object commits, so every object a live document or version of the database
copy references had its key in the store before the key store was copied. Only a deletion
or destruction landing between the two copies can take a key away. :func:`check_consistency`
finds any such object with one query over the two copies (the key-store copy attached, both
opened read-only and unchanged), so memory does not grow with the instance. Objects the
key-store copy holds that the database copy does not reference (stored just before their
row committed) are harmless: a restore shows them as ``unreferenced``, as the source would.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, create_engine, exists, select, union_all
from sqlalchemy.pool import NullPool

from archive_app.models import CustomerArchive, Document, DocumentVersion
from archive_app.services.backup.errors import BackupInconsistent

SHOWN_MISSING = 10  # how many missing objects an inconsistency names


def _referenced_objects() -> Any:
    """(storage id, object id) of every object a live document or version references."""
    live = Document.destroyed_at.is_(None)
    selects = []
    for column in (
        Document.original_object_id,
        Document.text_object_id,
        Document.rendition_object_id,
    ):
        selects.append(select(Document.archive_id, column.label("object_id")).where(live))
    for column in (
        DocumentVersion.original_object_id,
        DocumentVersion.text_object_id,
        DocumentVersion.rendition_object_id,
    ):
        selects.append(
            select(Document.archive_id, column.label("object_id"))
            .join(Document, DocumentVersion.document_id == Document.id)
            .where(live)
        )
    return union_all(*selects).subquery()


def check_consistency(database_copy: Path, key_store_copy: Path) -> None:
    """Raise :class:`BackupInconsistent` unless every object the database copy references
    has its key in the key-store copy."""
    keys = Table(
        "objects",
        MetaData(schema="keys"),
        Column("archive_id", String),
        Column("object_id", String),
    )
    refs = _referenced_objects()
    query = (
        select(CustomerArchive.storage_id, refs.c.object_id)
        .join(CustomerArchive, CustomerArchive.id == refs.c.archive_id)
        .where(
            refs.c.object_id.is_not(None),
            ~exists().where(
                keys.c.archive_id == CustomerArchive.storage_id,
                keys.c.object_id == refs.c.object_id,
            ),
        )
    )
    database_uri = database_copy.absolute().as_uri() + "?mode=ro&immutable=1"
    keys_uri = key_store_copy.absolute().as_uri() + "?mode=ro&immutable=1"

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(database_uri, uri=True)
        connection.execute("ATTACH DATABASE ? AS keys", (keys_uri,))
        return connection

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            missing, count = [], 0
            for archive_id, object_id in connection.execute(query):
                count += 1
                if len(missing) < SHOWN_MISSING:
                    missing.append(f"{archive_id}/{object_id}")
    finally:
        engine.dispose()
    if count:
        raise BackupInconsistent(missing, count)
