"""Versions of a record: a corrected scan never replaces the original, it becomes a new
version, and every earlier version stays viewable and downloadable.

:func:`add_version` runs intake's steps for the new file (preflight by content, SHA-256,
encrypt into the archive's store, then commit) and queues it for extraction. The
document row then points at the new version; the superseded version's row keeps its
original, text and rendition object ids. Nothing is deleted.

Declaration: the record's declaration (date, number, retention clock) stays, but the new
version is not confirmed yet: the checklist line returns to ``draft`` with the uploader as
responsible archivist, and it has to pass the checks and another person's review again.
Each version row records who confirmed it and when.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.errors import Conflict, NotFound, ValidationFailed
from archive_app.infra.container import Container
from archive_app.models import Document, DocumentStatus, DocumentVersion, User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, require
from archive_app.services import audit
from archive_app.services.checklist import line_for, reopen_for_new_version
from archive_app.services.documents import ExportHandle, get_visible
from archive_app.services.intake import limits_for, sha256_of
from archive_app.services.retention.holds import ensure_changeable
from indexing.extract import preflight

MAX_REASON = 500


def add_version(
    container: Container,
    actor_id: int,
    number: str,
    path: Path,
    filename: str,
    *,
    reason: str = "",
) -> int:
    """Store ``path`` as the next version of document ``number``; returns the new version
    number. The caller enqueues nothing: this function queues the extraction itself."""
    if len(reason.strip()) > MAX_REASON:
        raise ValidationFailed({"reason": f"is longer than {MAX_REASON} characters"})
    info = preflight(path, filename, limits=limits_for(container))
    digest = sha256_of(path)
    with container.database.session() as session:
        actor, document = _target(session, actor_id, number)
        _refuse_duplicate(session, document, digest)
        storage_id = document.archive.storage_id
    # Encrypting can take a while: outside any transaction, as intake does.
    with path.open("rb") as handle:
        stored = container.store.put(storage_id, handle)
    try:
        with container.database.session() as session:
            actor, document = _target(session, actor_id, number)
            _refuse_duplicate(session, document, digest)
            now = utcnow()
            current = _version_row(session, document.id, document.version)
            before = {
                "version": document.version,
                "file": document.original_filename,
                "sha256": document.sha256,
            }
            if current is not None:
                current.text_object_id = document.text_object_id
                current.rendition_object_id = document.rendition_object_id
                current.superseded_at = now
            new_version = document.version + 1
            session.add(
                DocumentVersion(
                    document_id=document.id,
                    version=new_version,
                    original_filename=info.filename or filename,
                    mime_type=info.mime,
                    size_bytes=info.size_bytes,
                    page_count=info.pages,
                    sha256=digest,
                    original_object_id=stored.object_id,
                    reason=reason.strip(),
                    created_by_id=actor.id,
                    created_at=now,
                )
            )
            document.version = new_version
            document.original_filename = info.filename or filename
            document.mime_type = info.mime
            document.size_bytes = info.size_bytes
            document.page_count = info.pages
            document.sha256 = digest
            document.original_object_id = stored.object_id
            # The old text and rendition now belong to the old version's row; clearing
            # them here keeps the worker from deleting them when it stores the new ones.
            document.text_object_id = None
            document.rendition_object_id = None
            document.status = DocumentStatus.QUEUED
            document.failure_reason = None
            document.progress_done = 0
            document.progress_total = info.pages
            document.processed_at = None
            document.updated_at = now
            reopen_for_new_version(session, line_for(session, actor, number), actor)
            session.flush()
            audit.record(
                session,
                actor,
                "document.new_version",
                "document",
                document.number,
                before=before,
                after={
                    "version": new_version,
                    "file": document.original_filename,
                    "sha256": digest,
                    "reason": reason.strip(),
                },
            )
            document_id = document.id
    except BaseException:
        if container.store.exists(storage_id, stored.object_id):
            container.store.delete(storage_id, stored.object_id)
        raise
    container.enqueue_processing(document_id)
    return new_version


def _target(session: Session, actor_id: int, number: str) -> tuple[User, Document]:
    actor = session.get(User, actor_id)
    if actor is None or not actor.active:
        raise NotFound("user", str(actor_id))
    require(actor, Capability.FILE_DOCUMENTS)
    document = get_visible(session, actor, number)
    if document.is_destroyed:
        raise Conflict(f"document {document.number} was destroyed; it has no content to correct")
    ensure_changeable(session, document)  # a held record takes no new version
    if document.status in (DocumentStatus.QUEUED, DocumentStatus.PROCESSING):
        raise Conflict(
            f"document {document.number} is still being processed; "
            "add a new version when it is ready"
        )
    return actor, document


def _refuse_duplicate(session: Session, document: Document, digest: str) -> None:
    if digest == document.sha256:
        raise Conflict(f"the file is identical to the current version of {document.number}")
    other = session.scalar(
        select(Document.number).where(
            Document.archive_id == document.archive_id,
            Document.sha256 == digest,
            Document.id != document.id,
        )
    )
    if other is not None:
        raise Conflict(f"the file is already filed in this archive as {other}")


def _version_row(session: Session, document_id: int, version: int) -> DocumentVersion | None:
    return session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document_id, DocumentVersion.version == version
        )
    )


def list_versions(session: Session, actor: User, number: str) -> list[DocumentVersion]:
    """Every version of a record, newest first."""
    document = get_visible(session, actor, number)
    return list(
        session.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == document.id)
            .order_by(DocumentVersion.version.desc())
        )
    )


def _object_ids(document: Document, row: DocumentVersion) -> dict[str, str | None]:
    if row.version == document.version:
        return {
            "original": document.original_object_id,
            "text": document.text_object_id,
            "pdf": document.rendition_object_id,
        }
    return {
        "original": row.original_object_id,
        "text": row.text_object_id,
        "pdf": row.rendition_object_id,
    }


def prepare_version_export(
    session: Session, actor: User, number: str, version: int, kind: str
) -> ExportHandle:
    """A download of one version's original or searchable PDF, audited."""
    if kind not in ("original", "pdf"):
        raise ValidationFailed({"kind": "must be one of original, pdf"})
    document = get_visible(session, actor, number)
    row = _version_row(session, document.id, version)
    if row is None:
        raise NotFound("version", f"{number} v{version}")
    object_id = _object_ids(document, row)[kind]
    if object_id is None:
        raise Conflict(f"version {version} of {document.number} has no {kind}")
    audit.record(
        session,
        actor,
        f"document.download_{kind}",
        "document",
        document.number,
        after={"version": version},
    )
    if kind == "original":
        return ExportHandle(
            row.original_filename,
            row.mime_type,
            row.size_bytes,
            document.archive.storage_id,
            object_id,
        )
    return ExportHandle(
        f"{document.number}-v{version}.pdf",
        "application/pdf",
        None,
        document.archive.storage_id,
        object_id,
    )


def read_version_text(
    container: Container, session: Session, actor: User, number: str, version: int
) -> list[dict[str, Any]]:
    document = get_visible(session, actor, number)
    row = _version_row(session, document.id, version)
    if row is None:
        raise NotFound("version", f"{number} v{version}")
    object_id = _object_ids(document, row)["text"]
    if object_id is None:
        return []
    raw = container.store.read_bytes(document.archive.storage_id, object_id)
    audit.record(
        session,
        actor,
        "document.read_text",
        "document",
        document.number,
        after={"version": version},
    )
    return list(json.loads(raw)["pages"])
