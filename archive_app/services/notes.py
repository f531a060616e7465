"""Notes on documents: remarks with their author and time, shown on the document page.

Anyone who may annotate documents (archivists, compliance, admins) writes a note on a
document they may see, declared or not, but not on a destroyed record or one being
destroyed. Notes are never edited or deleted: a correction is a new note. Writing one is
audited (``document.note``, with the note's id and text); reading them is part of viewing
the document.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.errors import ValidationFailed
from archive_app.models import Document, DocumentNote, User
from archive_app.permissions import Capability, require
from archive_app.services import audit
from archive_app.services.documents import get_visible
from archive_app.services.retention.errors import RecordDestroyed
from archive_app.services.retention.holds import ensure_not_being_destroyed

MAX_NOTE_CHARS = 4000


def add_note(session: Session, actor: User, number: str, body: str) -> DocumentNote:
    require(actor, Capability.ANNOTATE_DOCUMENTS)
    document = get_visible(session, actor, number)
    if document.is_destroyed:
        raise RecordDestroyed(document.number)
    ensure_not_being_destroyed(session, document)
    text = body.strip()
    if not text:
        raise ValidationFailed({"note": "is empty"})
    if len(text) > MAX_NOTE_CHARS:
        raise ValidationFailed({"note": f"is longer than {MAX_NOTE_CHARS} characters"})
    note = DocumentNote(document_id=document.id, author_id=actor.id, body=text)
    session.add(note)
    session.flush()
    audit.record(
        session,
        actor,
        "document.note",
        "document",
        document.number,
        after={"note": note.id, "text": text},
    )
    return note


def notes_of(session: Session, document: Document) -> list[DocumentNote]:
    """The notes of a document the caller has already been allowed to see, oldest first."""
    return list(
        session.scalars(
            select(DocumentNote)
            .where(DocumentNote.document_id == document.id)
            .order_by(DocumentNote.created_at, DocumentNote.id)
        )
    )


def list_notes(session: Session, actor: User, number: str) -> list[DocumentNote]:
    return notes_of(session, get_visible(session, actor, number))
