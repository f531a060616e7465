"""Tags on documents: add, remove, list.

Tags organise records; they are not part of a record's content, so a declared record can
be tagged (by anyone who may annotate documents: archivists, compliance, admins), but a
destroyed record or one being destroyed cannot. Names follow :mod:`archive_app.domain.tags`. Every change is audited (``document.tag``, the tags
before and after) and rewrites the document's search entry, which carries its tags for the
search filter. :func:`change_tags` is the one place tags change; the bulk edit calls it too,
with ``audited=False`` because it writes one entry per record itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from archive_app.domain import tags as domain_tags
from archive_app.errors import ValidationFailed
from archive_app.models import CustomerArchive, Document, DocumentTag, ErasureRequest, User
from archive_app.permissions import Capability, require, sees_restricted, visible_levels
from archive_app.search import updates as search_updates
from archive_app.services import audit
from archive_app.services.documents import get_visible
from archive_app.services.retention.errors import RecordDestroyed
from archive_app.services.retention.holds import ensure_not_being_destroyed


def clean_tags(raw: Iterable[str]) -> list[str]:
    """Distinct cleaned names, sorted; ValidationFailed names the bad one."""
    try:
        return domain_tags.clean_tags(raw)
    except ValueError as error:
        raise ValidationFailed({"tag": str(error)}) from None


def tags_of(session: Session, document: Document) -> list[str]:
    return list(
        session.scalars(
            select(DocumentTag.name)
            .where(DocumentTag.document_id == document.id)
            .order_by(DocumentTag.name)
        )
    )


def change_tags(
    session: Session,
    actor: User,
    document: Document,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    audited: bool = True,
) -> tuple[list[str], list[str]]:
    """Add and remove tags on a document the actor may see; returns (before, after)."""
    require(actor, Capability.ANNOTATE_DOCUMENTS)
    if document.is_destroyed:
        raise RecordDestroyed(document.number)
    ensure_not_being_destroyed(session, document)
    to_add, to_remove = clean_tags(add), clean_tags(remove)
    before = tags_of(session, document)
    after = sorted((set(before) - set(to_remove)) | set(to_add))
    if after == before:
        return before, after
    gone = set(before) - set(after)
    if gone:
        session.execute(
            delete(DocumentTag).where(
                DocumentTag.document_id == document.id, DocumentTag.name.in_(gone)
            )
        )
    for name in sorted(set(after) - set(before)):
        session.add(DocumentTag(document_id=document.id, name=name, tagged_by_id=actor.id))
    session.flush()
    search_updates.reindex(session, documents=[document.id])
    if audited:
        audit.record(
            session,
            actor,
            "document.tag",
            "document",
            document.number,
            before={"tags": before},
            after={"tags": after},
        )
    return before, after


def tag_document(
    session: Session,
    actor: User,
    number: str,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> list[str]:
    """Change the tags of the document numbered ``number``; returns its tags after."""
    document = get_visible(session, actor, number)
    return change_tags(session, actor, document, add=add, remove=remove)[1]


def tags_in_use(session: Session, actor: User) -> list[tuple[str, int]]:
    """Every tag on a document the actor may see, with how many such documents carry it."""
    require(actor, Capability.VIEW_ARCHIVES)
    query = (
        select(DocumentTag.name, func.count(DocumentTag.document_id))
        .join(Document, Document.id == DocumentTag.document_id)
        .join(CustomerArchive, CustomerArchive.id == Document.archive_id)
        .where(CustomerArchive.level.in_(visible_levels(actor)), Document.destroyed_at.is_(None))
        .group_by(DocumentTag.name)
        .order_by(DocumentTag.name)
    )
    if not sees_restricted(actor):
        # Records kept after an erasure request are for compliance only.
        query = query.where(Document.archive_id.not_in(select(ErasureRequest.archive_id)))
    rows = session.execute(query)
    return [(name, count) for name, count in rows]
