"""Intake: turn uploaded or imported files into stored, numbered documents queued for
extraction.

Per file, in this order: preflight (type sniffed from content, limits, safe name) →
SHA-256 → duplicate check within the archive → encrypt into the store → insert the row
with its new number and commit → enqueue extraction. A file that fails any step is
reported with its reason and leaves nothing behind (a stored object whose row could not
be committed is deleted again; if the process is killed in between, recovery deletes it:
:mod:`archive_app.infra.pending`); one bad file never stops the batch. A process killed after
the commit and before the enqueue leaves a queued document whose message recovery sends.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive_app.domain.numbering import allocate_document_number
from archive_app.errors import NotFound
from archive_app.infra import pending
from archive_app.infra.container import Container
from archive_app.models import Document, DocumentStatus, User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, require
from archive_app.services import audit, checklist
from archive_app.services.archives import get_visible
from archive_app.services.bootstrap import active_class
from archive_app.services.class_definitions import current_definition
from indexing.extract import Limits, Preflight, PreflightRejected, preflight

HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class IntakeItem:
    """One file to take in: where it is now and the name the user gave it."""

    path: Path
    filename: str
    class_code: str | None = None
    # Where the file was taken from, when that is not an upload or an import (the consume
    # folder's relative path): recorded in the audit entry of its filing.
    origin: str | None = None


@dataclass(frozen=True)
class IntakeResult:
    file: str
    status: str  # "queued" | "duplicate" | "rejected"
    document: str | None = None
    document_id: int | None = None
    error: str | None = None
    code: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "document": self.document,
            "status": self.status,
            "error": self.error,
        }


def limits_for(container: Container) -> Limits:
    settings = container.settings
    return Limits(max_bytes=settings.max_upload_bytes, max_pages=settings.max_pages)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def take_in(
    container: Container,
    actor_id: int,
    archive_number: str,
    items: Iterable[IntakeItem],
    *,
    default_class: str | None = None,
    on_file: Callable[[IntakeResult], None] | None = None,
) -> list[IntakeResult]:
    """Take in a batch of files; each file in its own transaction."""
    results: list[IntakeResult] = []
    for item in items:
        result = _take_in_one(container, actor_id, archive_number, item, default_class)
        results.append(result)
        if on_file is not None:
            on_file(result)
        if result.status == "queued" and result.document_id is not None:
            container.enqueue_processing(result.document_id)
    return results


def _take_in_one(
    container: Container,
    actor_id: int,
    archive_number: str,
    item: IntakeItem,
    default_class: str | None,
) -> IntakeResult:
    name = item.filename
    try:
        info = preflight(item.path, item.filename, limits=limits_for(container))
    except PreflightRejected as rejection:
        _audit_rejection(container, actor_id, archive_number, name, rejection)
        return IntakeResult(
            file=name, status="rejected", error=rejection.message, code=rejection.code.value
        )
    digest = sha256_of(item.path)
    class_code = item.class_code or default_class or "other"

    # A short transaction to check permissions and duplicates: the encryption below can
    # take a while and must not hold the database's write lock. It also records the new
    # object as in flight, so a process killed before the row commits leaves nothing that
    # recovery cannot find (archive_app.infra.pending).
    object_id = uuid.uuid4().hex
    with container.database.session() as session:
        actor = _actor(session, actor_id)
        archive = get_visible(session, actor, archive_number)
        active_class(session, class_code)
        duplicate = _duplicate_of(session, archive.id, digest)
        if duplicate is not None:
            return _refuse_duplicate(session, actor, duplicate, name)
        storage_id = archive.storage_id
        pending.track(session, storage_id, [object_id])

    store = container.store
    try:
        with item.path.open("rb") as handle:
            store.put(storage_id, handle, object_id=object_id)
        try:
            with container.database.session() as session:
                result = _file(
                    session, actor_id, archive_number, item, info, digest, class_code, object_id
                )
                if result.status == "queued":
                    pending.settle(session, storage_id, [object_id])
        except IntegrityError:
            # The same file, uploaded at the same moment, committed first (the unique
            # archive + hash constraint): this one is its duplicate, not an error.
            raced = _duplicate_after_race(container, actor_id, archive_number, digest, name)
            if raced is None:
                raise
            result = raced
    except BaseException:
        pending.delete_tracked(container.database, store, storage_id, [object_id])
        raise
    if result.status != "queued":  # the same file arrived concurrently
        pending.delete_tracked(container.database, store, storage_id, [object_id])
    return result


def _duplicate_after_race(
    container: Container, actor_id: int, archive_number: str, digest: str, name: str
) -> IntakeResult | None:
    with container.database.session() as session:
        actor = _actor(session, actor_id)
        archive = get_visible(session, actor, archive_number)
        duplicate = _duplicate_of(session, archive.id, digest)
        if duplicate is None:
            return None
        return _refuse_duplicate(session, actor, duplicate, name)


def _file(
    session: Session,
    actor_id: int,
    archive_number: str,
    item: IntakeItem,
    info: Preflight,
    digest: str,
    class_code: str,
    object_id: str,
) -> IntakeResult:
    """Number the stored file and insert its row, its checklist line and the audit entry."""
    actor = _actor(session, actor_id)
    archive = get_visible(session, actor, archive_number)
    document_class = active_class(session, class_code)
    duplicate = _duplicate_of(session, archive.id, digest)
    if duplicate is not None:
        return _refuse_duplicate(session, actor, duplicate, item.filename)
    now = utcnow()
    number = allocate_document_number(
        session,
        archive_id=archive.id,
        archive_number=archive.number,
        class_code=document_class.code,
        class_number_code=document_class.number_code,
        year=now.year,
    )
    document = Document(
        number=number,
        archive_id=archive.id,
        class_id=document_class.id,
        class_definition=current_definition(session, document_class),
        status=DocumentStatus.QUEUED,
        original_filename=info.filename or item.filename,
        mime_type=info.mime,
        size_bytes=info.size_bytes,
        page_count=info.pages,
        progress_total=info.pages,
        sha256=digest,
        original_object_id=object_id,
        fields={},
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(document)
    session.flush()
    checklist.open_line(session, document, actor)
    audit.record(
        session,
        actor,
        "document.create",
        "document",
        number,
        after={
            "archive": archive.number,
            "class": document_class.code,
            "file": document.original_filename,
            "sha256": digest,
            "pages": info.pages,
            **({"consumed_from": item.origin} if item.origin else {}),
        },
    )
    return IntakeResult(
        file=item.filename, status="queued", document=number, document_id=document.id
    )


def _actor(session, actor_id: int) -> User:
    actor = session.get(User, actor_id)
    if actor is None or not actor.active:
        raise NotFound("user", str(actor_id))
    require(actor, Capability.FILE_DOCUMENTS)
    return actor


def _duplicate_of(session, archive_id: int, digest: str) -> str | None:
    return session.scalar(
        select(Document.number).where(Document.archive_id == archive_id, Document.sha256 == digest)
    )


def _refuse_duplicate(session, actor: User, existing: str, name: str) -> IntakeResult:
    audit.record(
        session, actor, "document.duplicate_refused", "document", existing, after={"file": name}
    )
    return IntakeResult(
        file=name,
        status="duplicate",
        document=existing,
        error=f"already filed in this archive as {existing}",
        code="duplicate",
    )


def _audit_rejection(
    container: Container,
    actor_id: int,
    archive_number: str,
    name: str,
    rejection: PreflightRejected,
) -> None:
    with container.database.session() as session:
        actor = session.get(User, actor_id)
        audit.record(
            session,
            actor,
            "document.rejected",
            "archive",
            archive_number,
            after={"file": name, "code": rejection.code.value, "reason": rejection.message},
        )
