"""The versions of class definitions: writing one and finding the current one.

Contract: every change to a class (creation, edit, retirement, a new field) adds one
``document_class_versions`` row holding the whole new definition and raises the class's
``version``; rows are never changed. ``current_definition`` is the row a document filed or
edited now is held to, written first if a class has none yet (a class made before versions
existed).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.models import DocumentClass, DocumentClassVersion, User


def record_version(
    session: Session, document_class: DocumentClass, actor: User | None, reason: str
) -> DocumentClassVersion:
    """Write the class's current definition as its version ``document_class.version``."""
    row = DocumentClassVersion(
        class_id=document_class.id,
        version=document_class.version,
        definition=document_class.definition(),
        reason=reason,
        created_by_id=actor.id if actor is not None else None,
    )
    session.add(row)
    session.flush()
    return row


def current_definition(session: Session, document_class: DocumentClass) -> DocumentClassVersion:
    found = session.scalar(
        select(DocumentClassVersion).where(
            DocumentClassVersion.class_id == document_class.id,
            DocumentClassVersion.version == document_class.version,
        )
    )
    if found is None:
        found = record_version(session, document_class, None, "definition before versions")
    return found
