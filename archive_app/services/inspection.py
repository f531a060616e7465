"""Periodic inspection (定期检查): fixity of every stored object, the filing checklist
against the store, and the search index against the database.

Contract of ``inspect(container, session, actor, *, progress=None) -> InspectionReport``:

- Only compliance and admin users may run it (:class:`PermissionDenied` otherwise);
  ``actor`` None is the worker's scheduled run, recorded without a user. The history of
  runs, the schedule and the notification of a failed run are
  :mod:`archive_app.services.inspection_runs`, which wraps this function.
- It changes nothing: no repair, no deletion, no re-indexing. Its one write is the audit
  entry ``inspection`` with the summary counts, recorded through ``session`` at the end.
- Every live document (not destroyed) and each of its versions is checked, in id order,
  one batch of rows at a time, so memory holds one batch whatever the size of the
  instance. Each referenced object is decrypted and authenticated chunk by chunk
  (``BlobStore.verify_object``); the original's plaintext SHA-256 is compared with the
  recorded one. Destroyed records are skipped: their stubs reference nothing, and their
  objects were shredded on purpose.
- Every object in the store that no live document or version references is reported as
  ``unreferenced``, never deleted: deciding what it is takes a person.
- The search index is compared with the database by
  :func:`archive_app.search_maintenance.check` without repair.
- Documents waiting for or in processing longer than expected are reported ``stuck``:
  processing under a dead claim (its worker is gone), processing longer than
  ``PROCESSING_BASE`` plus ``PROCESSING_PER_PAGE`` per page, queued longer than
  ``QUEUED_WITHOUT_WORKER`` while no background worker runs, or queued longer than
  ``QUEUED_TOO_LONG`` at all. The detail says what recovers them.
- ``progress(done, total)`` is called after each document (total: documents in the
  database, destroyed stubs included).

Findings (:class:`Finding`) name the document number, the version when the object belongs
to a superseded version, the object kind (original, text, rendition) and the problem:
``missing``, ``damaged`` (with the store's reason), ``checksum_mismatch``,
``unreferenced``, ``stuck``, ``checklist`` (the record claims content for which no object is
recorded: no checklist line, no original, a ready document without its text or
rendition, a version history that disagrees with the document), ``index_missing`` and
``index_stale``.

Transactions: the checks read in short transactions of their own, never in ``session``.
On SQLite every transaction takes the write lock (see :mod:`archive_app.infra.db`), so a
transaction held for an inspection that may decrypt the whole store for hours would stop
all filing; ``session`` must therefore not have begun a transaction when it is passed in.

Running beside live work: intake and processing store an object before the row that
references it commits, and delete a replaced object only after the commit that drops the
reference. An object caught in either window looks unreferenced, and a row read just
before such a commit may name an object that is gone a moment later. So every candidate
``missing`` or ``unreferenced`` finding is looked at again before it is reported, and
dropped if the database or the store has moved on.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_app.domain.references import referenced_objects
from archive_app.infra import workers
from archive_app.infra.container import Container
from archive_app.models import (
    ChecklistLine,
    CustomerArchive,
    Document,
    DocumentStatus,
    DocumentVersion,
    User,
)
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, require
from archive_app.search import maintenance as search_maintenance
from archive_app.services import audit, claims
from storage import (
    ArchiveNotFound,
    ArchiveShredded,
    BlobMissing,
    IntegrityError,
    InvalidIdentifier,
    ObjectNotFound,
    ObjectShredded,
)
from storage.store import ObjectInfo

# How long a document may wait for or stay in processing before it is reported stuck.
QUEUED_WITHOUT_WORKER = timedelta(minutes=10)
QUEUED_TOO_LONG = timedelta(hours=6)
PROCESSING_BASE = timedelta(minutes=10)
PROCESSING_PER_PAGE = timedelta(minutes=1)
BATCH = 200  # documents per read transaction
STORE_CHUNK = 500  # store objects per reference lookup

Progress = Callable[[int, int], None]


class Problem(enum.StrEnum):
    MISSING = "missing"
    DAMAGED = "damaged"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    UNREFERENCED = "unreferenced"
    CHECKLIST = "checklist"
    INDEX_MISSING = "index_missing"
    INDEX_STALE = "index_stale"
    STUCK = "stuck"


class ObjectKind(enum.StrEnum):
    ORIGINAL = "original"
    TEXT = "text"
    RENDITION = "rendition"


@dataclass(frozen=True)
class Finding:
    """One problem. ``document`` is None only for an unreferenced object; ``version`` is
    set when the object belongs to a superseded version (the current version's objects
    are the document's); ``kind`` is None for whole-record problems."""

    problem: Problem
    document: str | None
    detail: str
    version: int | None = None
    kind: ObjectKind | None = None
    archive: str | None = None
    object_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem.value,
            "document": self.document,
            "version": self.version,
            "object": self.kind.value if self.kind else None,
            "archive": self.archive,
            "object_id": self.object_id,
            "detail": self.detail,
        }


@dataclass
class InspectionReport:
    started_at: datetime
    finished_at: datetime | None = None
    documents: int = 0  # live documents checked
    destroyed: int = 0  # destroyed stubs skipped
    versions: int = 0  # superseded versions checked
    objects_checked: int = 0  # objects read back, decrypted and authenticated
    store_objects: int = 0  # objects the store holds
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings

    def problem_counts(self) -> dict[str, int]:
        counts = {problem.value: 0 for problem in Problem}
        for finding in self.findings:
            counts[finding.problem.value] += 1
        return counts

    def summary(self) -> dict[str, Any]:
        """The counts (what the audit entry records)."""
        return {
            "documents": self.documents,
            "destroyed_skipped": self.destroyed,
            "versions": self.versions,
            "objects_checked": self.objects_checked,
            "store_objects": self.store_objects,
            "findings": len(self.findings),
            "problems": self.problem_counts(),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            **self.summary(),
            "findings": [finding.as_dict() for finding in self.findings],
        }


def inspect(
    container: Container,
    session: Session,
    actor: User | None,
    *,
    progress: Progress | None = None,
) -> InspectionReport:
    """Run the periodic inspection; see the module docstring."""
    if actor is not None:
        require(actor, Capability.INSPECT)
    if session.in_transaction():
        raise RuntimeError(
            "inspect() needs a session without an open transaction: it reads in short "
            "transactions of its own, and on SQLite an open one holds the write lock"
        )
    report = InspectionReport(started_at=utcnow())
    # The index first: it is quick, and an unreachable index fails the run at once
    # rather than after hours of fixity checks.
    _check_index(container, actor, report)
    _check_stuck(container, report)
    _check_documents(container, report, progress or (lambda _done, _total: None))
    _check_unreferenced(container, report)
    report.finished_at = utcnow()
    audit.record(session, actor, "inspection", "instance", "*", after=report.summary())
    return report


# ---------------------------------------------------------------- index against database


def _check_index(container: Container, actor: User | None, report: InspectionReport) -> None:
    drift = search_maintenance.check(container, actor, repair=False)
    for number in drift.missing:
        report.findings.append(
            Finding(Problem.INDEX_MISSING, number, "indexable but missing from the search index")
        )
    for number in drift.extra:
        report.findings.append(
            Finding(
                Problem.INDEX_STALE,
                number,
                "in the search index without an indexable document",
            )
        )


# ---------------------------------------------------------------- stuck in the pipeline


def _check_stuck(container: Container, report: InspectionReport) -> None:
    now = utcnow()
    with container.database.session() as session:
        background = workers.any_background_worker(session)
        waiting = session.scalars(
            select(Document)
            .where(
                Document.status.in_([DocumentStatus.QUEUED, DocumentStatus.PROCESSING]),
                Document.destroyed_at.is_(None),
            )
            .order_by(Document.id)
        ).all()
        for document in waiting:
            detail = _stuck(document, now, background)
            if detail is not None:
                report.findings.append(
                    Finding(Problem.STUCK, document.number, detail, archive=document.archive.number)
                )


def _stuck(document: Document, now: datetime, background: bool) -> str | None:
    retry = f"`archive retry {document.number} --force`"
    if document.status == DocumentStatus.PROCESSING:
        since = document.claimed_at or document.updated_at
        where = f"page {document.progress_done} of {document.progress_total}"
        if claims.is_dead(document):
            return (
                f"processing since {since:%Y-%m-%d %H:%M} UTC ({where}) by a worker that is no "
                f"longer running; the next worker start queues it again (or {retry})"
            )
        expected = PROCESSING_BASE + PROCESSING_PER_PAGE * max(document.progress_total, 1)
        if now - since > expected:
            return (
                f"processing for {_minutes(now - since)} ({where}), longer than expected for "
                f"{document.progress_total} pages; check the worker's log (or {retry})"
            )
        return None
    waited = now - document.updated_at
    if not background and waited > QUEUED_WITHOUT_WORKER:
        return (
            f"queued for {_minutes(waited)} and no background worker is running; start one "
            "(`archive worker`, or `archive serve`)"
        )
    if waited > QUEUED_TOO_LONG:
        return f"queued for {_minutes(waited)}; check that the workers take messages"
    return None


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} min"


# ---------------------------------------------------------------- documents and versions


@dataclass(frozen=True)
class _DocumentRow:
    id: int
    number: str
    archive: str
    storage_id: str
    status: DocumentStatus
    destroyed: bool
    version: int
    sha256: str | None
    original: str | None
    text: str | None
    rendition: str | None
    has_line: bool


@dataclass(frozen=True)
class _VersionRow:
    document_id: int
    version: int
    sha256: str | None
    original: str | None
    text: str | None
    rendition: str | None


def _document_batches(
    container: Container,
) -> Iterator[tuple[list[_DocumentRow], dict[int, list[_VersionRow]]]]:
    """Batches of document rows in id order with their version rows, each batch read in
    its own short transaction (plain tuples, so no session keeps them alive)."""
    last = 0
    while True:
        with container.database.session() as session:
            rows = [
                _DocumentRow(*row)
                for row in session.execute(
                    select(
                        Document.id,
                        Document.number,
                        CustomerArchive.number,
                        CustomerArchive.storage_id,
                        Document.status,
                        Document.destroyed_at.is_not(None),
                        Document.version,
                        Document.sha256,
                        Document.original_object_id,
                        Document.text_object_id,
                        Document.rendition_object_id,
                        ChecklistLine.id.is_not(None),
                    )
                    .join(CustomerArchive, Document.archive_id == CustomerArchive.id)
                    .outerjoin(ChecklistLine, ChecklistLine.document_id == Document.id)
                    .where(Document.id > last)
                    .order_by(Document.id)
                    .limit(BATCH)
                )
            ]
            if not rows:
                return
            versions: dict[int, list[_VersionRow]] = {}
            for row in session.execute(
                select(
                    DocumentVersion.document_id,
                    DocumentVersion.version,
                    DocumentVersion.sha256,
                    DocumentVersion.original_object_id,
                    DocumentVersion.text_object_id,
                    DocumentVersion.rendition_object_id,
                )
                .where(DocumentVersion.document_id.in_([r.id for r in rows if not r.destroyed]))
                .order_by(DocumentVersion.document_id, DocumentVersion.version)
            ):
                versions.setdefault(row[0], []).append(_VersionRow(*row))
        yield rows, versions
        last = rows[-1].id


def _check_documents(container: Container, report: InspectionReport, progress: Progress) -> None:
    with container.database.session() as session:
        total = session.scalar(select(func.count()).select_from(Document)) or 0
    done = 0
    progress(done, total)
    for rows, versions in _document_batches(container):
        for row in rows:
            if row.destroyed:
                report.destroyed += 1
            else:
                report.documents += 1
                _check_document(container, report, row, versions.get(row.id, []))
            done += 1
            # A document created during the run may push the count past the first total.
            total = max(total, done)
            progress(done, total)


def _check_document(
    container: Container, report: InspectionReport, row: _DocumentRow, versions: list[_VersionRow]
) -> None:
    def claim(detail: str, kind: ObjectKind | None = None, version: int | None = None) -> None:
        report.findings.append(
            Finding(Problem.CHECKLIST, row.number, detail, version, kind, row.archive)
        )

    if not row.has_line:
        claim("the document has no filing checklist line")
    if row.original is None:
        claim("the checklist's electronic location names no original object", ObjectKind.ORIGINAL)
    else:
        if row.sha256 is None:
            claim("no SHA-256 is recorded for the original", ObjectKind.ORIGINAL)
        _verify(container, report, row, ObjectKind.ORIGINAL, row.original, None, row.sha256)
    # Queued, processing and failed documents have no text or rendition yet; a ready one
    # claims both.
    for kind, object_id in ((ObjectKind.TEXT, row.text), (ObjectKind.RENDITION, row.rendition)):
        if object_id is not None:
            _verify(container, report, row, kind, object_id, None, None)
        elif row.status == DocumentStatus.READY:
            claim(f"the document is ready but no {kind.value} object is recorded", kind)

    current = [v for v in versions if v.version == row.version]
    if not current:
        claim(f"version {row.version} has no row in the version history")
    elif current[0].original != row.original or current[0].sha256 != row.sha256:
        claim(
            f"the version history's version {row.version} names another original than the document",
            ObjectKind.ORIGINAL,
        )
    for version in versions:
        if version.version >= row.version:
            continue  # the current version's objects are the document's, checked above
        report.versions += 1
        if version.original is None:
            claim(
                "the superseded version names no original object",
                ObjectKind.ORIGINAL,
                version.version,
            )
        else:
            _verify(
                container,
                report,
                row,
                ObjectKind.ORIGINAL,
                version.original,
                version.version,
                version.sha256,
            )
        # A version superseded before its extraction finished legitimately has neither.
        for kind, object_id in (
            (ObjectKind.TEXT, version.text),
            (ObjectKind.RENDITION, version.rendition),
        ):
            if object_id is not None:
                _verify(container, report, row, kind, object_id, version.version, None)


def _verify(
    container: Container,
    report: InspectionReport,
    row: _DocumentRow,
    kind: ObjectKind,
    object_id: str,
    version: int | None,
    expected_sha256: str | None,
) -> None:
    def found(problem: Problem, detail: str) -> None:
        report.findings.append(
            Finding(problem, row.number, detail, version, kind, row.archive, object_id)
        )

    report.objects_checked += 1
    try:
        digest = container.store.verify_object(row.storage_id, object_id)
    except BlobMissing:
        # For the operator a lost file is a missing object (restore it), not a damaged one.
        if _still_referenced(container, row.storage_id, object_id):
            found(Problem.MISSING, "the key is stored but the blob file is missing")
        return
    except IntegrityError as error:
        found(Problem.DAMAGED, error.reason)
        return
    except (ObjectShredded, ArchiveShredded) as error:
        if _still_referenced(container, row.storage_id, object_id):
            # Destruction shreds before its transaction commits; a failed commit leaves a
            # live row naming shredded content until the batch is run again.
            found(Problem.MISSING, f"{error}; if a destruction batch failed, run it again")
        return
    except (ObjectNotFound, ArchiveNotFound, InvalidIdentifier) as error:
        if _still_referenced(container, row.storage_id, object_id):
            found(Problem.MISSING, str(error))
        return
    if expected_sha256 is not None and digest != expected_sha256:
        found(
            Problem.CHECKSUM_MISMATCH,
            f"decrypted SHA-256 {digest} differs from the recorded {expected_sha256}",
        )


def _still_referenced(container: Container, storage_id: str, object_id: str) -> bool:
    """Whether a live document or version references the object now, read afresh: a
    reprocessing or a destruction may have moved the row on since its batch was read."""
    with container.database.session() as session:
        return bool(referenced_objects(session, storage_id, [object_id]))


# ---------------------------------------------------------------- store against database


def _chunks(objects: Iterable[ObjectInfo], size: int) -> Iterator[list[ObjectInfo]]:
    iterator = iter(objects)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _check_unreferenced(container: Container, report: InspectionReport) -> None:
    store = container.store
    candidates: list[ObjectInfo] = []
    # The store lists objects in (archive id, object id) order, so grouping by archive
    # needs no memory beyond one chunk.
    for storage_id, objects in itertools.groupby(store.iter_objects(), key=lambda o: o.archive_id):
        for chunk in _chunks(objects, STORE_CHUNK):
            report.store_objects += len(chunk)
            with container.database.session() as session:
                referenced = referenced_objects(session, storage_id, [o.object_id for o in chunk])
            candidates += [o for o in chunk if o.object_id not in referenced]
    if not candidates:
        return
    # A second look (see the module docstring): drop what a commit has since claimed or
    # what has since left the store.
    archives = _archive_numbers(container, {o.archive_id for o in candidates})
    for storage_id, objects in itertools.groupby(candidates, key=lambda o: o.archive_id):
        for chunk in _chunks(objects, STORE_CHUNK):
            with container.database.session() as session:
                referenced = referenced_objects(session, storage_id, [o.object_id for o in chunk])
            for info in chunk:
                if info.object_id in referenced or not store.exists(storage_id, info.object_id):
                    continue
                archive = archives.get(storage_id)
                where = "" if archive else f" (store archive {storage_id}, no customer archive)"
                report.findings.append(
                    Finding(
                        Problem.UNREFERENCED,
                        None,
                        f"{info.size} bytes that no live document or version references{where}",
                        archive=archive,
                        object_id=info.object_id,
                    )
                )


def _archive_numbers(container: Container, storage_ids: set[str]) -> dict[str, str]:
    with container.database.session() as session:
        return dict(
            session.execute(
                select(CustomerArchive.storage_id, CustomerArchive.number).where(
                    CustomerArchive.storage_id.in_(storage_ids)
                )
            ).all()
        )
