"""Fixtures for retention in the app: seeded rules, compliance users, real documents.

Documents go through the real intake (``take_in``: stored encrypted, numbered) and the
real processing step (``pipeline.process_document``, run in-process: text and searchable
PDF stored encrypted, then indexed) on born-digital PDFs, so each record has an original,
a text object and a rendition in the store. Declaration (the filing checklist's outcome)
is set with :func:`declare`, a small helper writing ``Document.declared_at`` directly: the
checklist's own tests cover how a record gets there.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from uuid import uuid4

from sqlalchemy import select

from archive_app.infra.container import Container
from archive_app.models import Document, User
from archive_app.models.base import utcnow
from archive_app.services import archives
from archive_app.services.archives import ArchiveInput
from archive_app.services.intake import IntakeItem, take_in
from archive_app.services.processing import process_document
from tests import documents as docs


def make_archive(container: Container, admin: User, name: str = "上海明远贸易有限公司") -> str:
    with container.database.session() as session:
        archive = archives.create_archive(
            session,
            admin,
            ArchiveInput(name=name),
            number_pattern="KH-{seq:06d}",
            on_created=container.on_archive_created,
        )
        return archive.number


def add_document(
    container: Container,
    admin: User,
    archive_number: str,
    class_code: str,
    folder: Path,
    *,
    document_date: date,
    declared: bool = True,
) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = docs.write_text_pdf(
        [[f"{class_code} {uuid4().hex}", "会计凭证 付款 Payment voucher"]],
        folder / f"{uuid4().hex}.pdf",
    )
    [result] = take_in(
        container,
        admin.id,
        archive_number,
        [IntakeItem(path=path, filename=path.name)],
        default_class=class_code,
    )
    assert result.status == "queued", result
    assert result.document_id is not None
    process_document(container, result.document_id)
    with container.database.session() as session:
        document = session.get(Document, result.document_id)
        assert document is not None
        assert document.text_object_id and document.rendition_object_id, document.failure_reason
        document.document_date = document_date
        if declared:
            declare(document, admin)
        return document.number


def declare(document: Document, by: User, at: datetime | None = None) -> None:
    """The filing checklist's outcome, written directly (see the module docstring)."""
    document.declared_at = at or utcnow()
    document.declared_by_id = by.id


def document_row(container: Container, number: str) -> Document:
    with container.database.session() as session:
        document = session.scalar(select(Document).where(Document.number == number))
        assert document is not None
        session.expunge(document)
        return document


def index_ids(container: Container) -> list[str]:
    """Document ids in the search index (a query every indexed test document matches)."""
    from indexing.search import SearchRequest

    levels = {"public", "internal", "confidential", "secret"}
    results = container.search.search(SearchRequest("voucher", allowed_levels=levels, per_page=100))
    return sorted(hit.doc_id for hit in results.hits)
