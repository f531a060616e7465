"""What an index entry holds, and writing entries from the database and the store.

Contract: one entry per document that is ``ready``, not destroyed nor being destroyed and
not restricted by an erasure request, keyed by the document's database id (as a string). The entry carries the
archive id and number, the class code, the filing state (``ready``, or ``declared`` once
the checklist line is confirmed), the archive's confidentiality level, the document date,
the amount, the title, the document's tags, and the analysed text: archive name, class field values and the
extracted text, read from the encrypted store. The index never stores the text itself.

:func:`write_entries` (re)writes the entries of some documents and deletes those that are
no longer indexable; :func:`delete_entries` deletes and purges. Use cases do not call
them: they record their changes with :mod:`archive_app.search.updates`, whose committer
does; maintenance (:mod:`archive_app.search.maintenance`) calls them for whole-index work.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from archive_app.models import Document, DocumentStatus, DocumentTag, ErasureRequest
from archive_app.search.backend import translate

if TYPE_CHECKING:
    from archive_app.infra.container import Container
    from indexing.search import IndexDocument

BATCH = 200


def indexable(document: Document) -> bool:
    # A record whose destruction is decided leaves search at once, before its keys go.
    return (
        document.status == DocumentStatus.READY
        and document.destroyed_at is None
        and document.destruction_plan_id is None
        and document.text_object_id is not None
    )


def filing_state(document: Document) -> str:
    return "declared" if document.declared_at is not None else document.status.value


def decrypted_text(container: Container, document: Document) -> str:
    """The extracted text of every page, decrypted (never written anywhere)."""
    if document.text_object_id is None:
        return ""
    raw = container.store.read_bytes(document.archive.storage_id, document.text_object_id)
    return "\n".join(page["text"] for page in json.loads(raw)["pages"])


def tags_of(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """The tags of these documents, sorted by name."""
    found: dict[int, list[str]] = {}
    for document_id, name in session.execute(
        select(DocumentTag.document_id, DocumentTag.name)
        .where(DocumentTag.document_id.in_(list(ids)))
        .order_by(DocumentTag.document_id, DocumentTag.name)
    ):
        found.setdefault(document_id, []).append(name)
    return {key: tuple(names) for key, names in found.items()}


def entry_for(
    container: Container, document: Document, tags: tuple[str, ...] = ()
) -> IndexDocument:
    from indexing.search import IndexDocument

    archive = document.archive
    # Flags (yes/no) say nothing a search would look for.
    flags = {spec["name"] for spec in document.field_specs if spec["type"] == "flag"}
    metadata = " ".join(
        str(value) for name, value in (document.fields or {}).items() if value and name not in flags
    )
    body = "\n".join(
        part for part in (archive.name, metadata, decrypted_text(container, document)) if part
    )
    return IndexDocument(
        doc_id=str(document.id),
        archive_id=str(archive.id),
        archive_number=archive.number,
        class_code=document.document_class.code,
        status=filing_state(document),
        level=archive.level.value,
        title=document.display_title,
        text=body,
        document_date=document.document_date,
        amount=document.amount,
        tags=tags,
    )


def not_restricted() -> Any:
    """Records of an archive under an erasure request are kept for storage only: they
    stay out of the index, so nobody finds them by search."""
    return Document.archive_id.not_in(select(ErasureRequest.archive_id))


def load_documents(session: Session, ids: list[int]) -> list[Document]:
    """The indexable candidates among ``ids`` (restricted records are left out, so the
    callers remove any entry they still have)."""
    return list(
        session.scalars(
            select(Document)
            .options(
                joinedload(Document.archive),
                joinedload(Document.document_class),
                joinedload(Document.class_definition),
            )
            .where(Document.id.in_(ids), not_restricted())
            .order_by(Document.id)
        )
    )


def write_entries(container: Container, document_ids: Iterable[int]) -> int:
    """(Re)write these documents' entries from the database and the store; documents that
    are not indexable (gone, not ready, destroyed, restricted) lose theirs. Returns how many
    entries were written."""
    from indexing.search import SearchError

    ids = sorted(set(document_ids))
    written = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        with container.database.session() as session:
            documents = load_documents(session, chunk)
            tags = tags_of(session, chunk)
        # Decrypt outside the transaction: on SQLite it holds the write lock.
        entries = [entry_for(container, d, tags.get(d.id, ())) for d in documents if indexable(d)]
        stale = set(map(str, chunk)) - {e.doc_id for e in entries}
        try:
            if entries:
                written += container.search.add(entries)
            if stale:
                container.search.delete(sorted(stale))
        except SearchError as error:
            raise translate(error) from error
    return written


def delete_entries(container: Container, document_ids: Iterable[int], *, purge: bool) -> int:
    """Delete these entries; with ``purge`` their terms are then physically gone from the
    index storage (Whoosh segments rewritten, PostgreSQL ``VACUUM FULL``)."""
    from indexing.search import SearchError

    ids = sorted({str(i) for i in document_ids})
    try:
        if ids:
            container.search.delete(ids)
        if purge:
            container.search.purge()
    except SearchError as error:
        raise translate(error) from error
    return len(ids)
