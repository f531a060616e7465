"""Processing one document after intake: extract text (text layer or OCR), build the
searchable PDF rendition, suggest metadata, store the results encrypted. Suggestions stay
in the encrypted reading: no title, date or amount is saved on the row until a person
accepts it (:func:`archive_app.services.documents.edit_document`).

:func:`process_document` is idempotent and safe to run twice at once: each run claims
the document for its worker (:mod:`archive_app.services.claims`) by bumping ``attempts``, and only
the run holding the latest claim commits its results (a superseded run deletes the
objects it stored). A queued document is claimed; a processing one only when its claim is
dead (its worker is gone); one that is gone, ready, failed or claimed by a live worker
makes it return quietly, so a message delivered twice does no harm. The result objects'
ids are chosen and tracked (:mod:`archive_app.infra.pending`) in the claim's transaction, so a
worker killed between storing them and committing leaves nothing that recovery cannot
find. Failures the user must act on mark the document ``failed`` with a clear reason;
transient ones raise :class:`TransientProcessingError` so the task queue retries, and are
recorded as the failure reason only on the final attempt.

Without ``worker`` the call registers the calling process as an in-process worker for its
duration, so its claim is as live as a background worker's.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import OperationalError

from archive_app.domain.reading import reading_document
from archive_app.domain.suggestions import names_another_customer, to_document_suggestions
from archive_app.infra import pending, workers
from archive_app.infra.container import Container
from archive_app.models import Document, DocumentStatus, WorkerKind
from archive_app.models.base import utcnow
from archive_app.search import updates as search_updates
from archive_app.services import audit, claims
from archive_app.services.intake import limits_for
from indexing.extract import (
    ExtractError,
    ExtractOptions,
    OcrEngineUnavailable,
    PreflightRejected,
    build_rendition,
    extract,
    preflight,
)
from indexing.extract.suggest import suggest_metadata
from storage import KeyStoreBusy, StorageError

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_SECONDS = 0.5


class TransientProcessingError(Exception):
    """Worth retrying: the engine or the store was unavailable for a moment."""


@dataclass(frozen=True)
class _Claim:
    attempt: int
    storage_id: str
    original_id: str
    filename: str
    number: str
    text_id: str
    rendition_id: str

    @property
    def result_ids(self) -> list[str]:
        return [self.text_id, self.rendition_id]


def _claim(container: Container, document_id: int, worker_id: int) -> _Claim | None:
    with container.database.session() as session:
        # Locked (PostgreSQL; SQLite's write lock does the same): two runs claiming at once
        # see each other's claim instead of both taking the next attempt.
        document = session.get(Document, document_id, with_for_update=True)
        if document is None or document.original_object_id is None:
            return None
        if claims.is_dead(document):
            claims.release_dead(session, document)  # queued again, or failed
        if document.status != DocumentStatus.QUEUED:
            return None
        claim = _Claim(
            document.attempts + 1,
            document.archive.storage_id,
            document.original_object_id,
            document.original_filename,
            document.number,
            uuid.uuid4().hex,
            uuid.uuid4().hex,
        )
        pending.track(session, claim.storage_id, claim.result_ids)
        claims.take(document, worker_id)
        document.attempts = claim.attempt
        document.failure_reason = None
        document.progress_done = 0
        return claim


def process_document(
    container: Container,
    document_id: int,
    *,
    worker: workers.Registration | None = None,
    final_attempt: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> None:
    registration = (
        nullcontext(worker)
        if worker is not None
        else workers.registered(container.database, WorkerKind.INLINE)
    )
    with registration as claimant:
        _process(container, document_id, claimant.worker_id, final_attempt, on_progress)


def _process(
    container: Container,
    document_id: int,
    worker_id: int,
    final_attempt: bool,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    claim = _claim(container, document_id, worker_id)
    if claim is None:
        return
    attempt, storage_id, original_id, filename, number = (
        claim.attempt,
        claim.storage_id,
        claim.original_id,
        claim.filename,
        claim.number,
    )
    store = container.store
    # Decrypted content touches the disk only in the instance's private temporary folder.
    workdir = Path(tempfile.mkdtemp(prefix="extract-", dir=container.temp_folder))
    # Tracked since the claim: whatever happens, these are deleted unless committed.
    stored = claim.result_ids
    try:
        source = workdir / "original"
        with store.open_object(storage_id, original_id) as reader, source.open("wb") as out:
            shutil.copyfileobj(reader, out, 1024 * 1024)
        info = preflight(source, filename, limits=limits_for(container))
        settings = container.settings
        options = ExtractOptions(
            languages=settings.ocr_languages,
            engine=settings.ocr_engine,
            workers=settings.ocr_workers,
            temp_dir=str(workdir),
        )
        progress = _ProgressWriter(container, document_id, attempt, on_progress)
        extraction = extract(
            source, info, options=options, engines=container.engines, on_page=progress
        )
        rendition = build_rendition(source, extraction, info, options=options)
        found = suggest_metadata(extraction.text, own_names=settings.own_company_names)
        suggestions = to_document_suggestions(found)
        text_document = reading_document(extraction, rendition, suggestions)
        # One group for both objects: they share the folder fsync and the key-store commit
        # (two separate puts cost six flushes in sequence, the group about three).
        store.put_many(
            storage_id,
            [[json.dumps(text_document, ensure_ascii=False).encode()], [rendition.data]],
            object_ids=stored,
        )
        committed = _commit(
            container,
            document_id,
            attempt,
            extraction,
            suggestions,
            claim.text_id,
            claim.rendition_id,
        )
        if not committed:
            pending.delete_tracked(container.database, store, storage_id, stored)
    except PreflightRejected as rejection:
        _fail(
            container,
            document_id,
            attempt,
            f"{rejection.message} [{rejection.code.value}]",
            stored,
            storage_id,
        )
    except OcrEngineUnavailable as error:
        # A configuration problem (program or language pack missing): retrying will not
        # help until an operator fixes it; then the document is retried by hand.
        _fail(
            container, document_id, attempt, f"OCR engine unavailable: {error}", stored, storage_id
        )
    except ExtractError as error:
        _fail(container, document_id, attempt, str(error), stored, storage_id)
    except (KeyStoreBusy, OperationalError) as error:
        _discard(container, stored, storage_id)
        if final_attempt:
            _fail(
                container, document_id, attempt, f"temporarily unavailable: {error}", [], storage_id
            )
            return
        _requeue_state(container, document_id, attempt, str(error))
        raise TransientProcessingError(str(error)) from error
    except StorageError as error:
        _fail(container, document_id, attempt, f"storage: {error}", stored, storage_id)
    except Exception as error:
        log.exception("processing %s failed", number)
        _fail(
            container,
            document_id,
            attempt,
            f"unexpected error: {type(error).__name__}: {error}",
            stored,
            storage_id,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class _ProgressWriter:
    """Records "page n of m" on the row, at most twice a second."""

    def __init__(
        self,
        container: Container,
        document_id: int,
        attempt: int,
        forward: Callable[[int, int], None] | None,
    ) -> None:
        self.container = container
        self.document_id = document_id
        self.attempt = attempt
        self.forward = forward
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if self.forward is not None:
            self.forward(done, total)
        now = time.monotonic()
        if done < total and now - self.last < PROGRESS_INTERVAL_SECONDS:
            return
        self.last = now
        with self.container.database.session() as session:
            document = session.get(Document, self.document_id)
            if document is not None and document.attempts == self.attempt:
                document.progress_done = done
                document.progress_total = total
                document.updated_at = utcnow()


def _commit(
    container, document_id, attempt, extraction, suggestions, text_id, rendition_id
) -> bool:
    with container.database.session() as session:
        document = session.get(Document, document_id)
        if document is None or document.attempts != attempt:
            return False
        storage_id = document.archive.storage_id
        try:
            pending.settle(session, storage_id, [text_id, rendition_id])
        except pending.ObjectReclaimed:
            # Recovery took this worker for dead and queued the document again; the next
            # run stores its own results.
            session.rollback()
            return False
        replaced = [
            object_id
            for object_id in (document.text_object_id, document.rendition_object_id)
            if object_id
        ]
        pending.track(session, storage_id, replaced)
        claims.drop(document)
        document.text_object_id = text_id
        document.rendition_object_id = rendition_id
        document.page_count = len(extraction.pages)
        document.progress_done = document.progress_total = len(extraction.pages)
        document.extraction_method = (
            "text-layer"
            if extraction.ocr_pages == 0
            else "ocr"
            if extraction.ocr_pages == len(extraction.pages)
            else "mixed"
        )
        document.ocr_confidence = extraction.confidence
        document.unreadable_pages = list(extraction.unreadable_pages)
        document.misfiling_suspected = (
            names_another_customer(suggestions, document.archive) is not None
        )
        document.status = DocumentStatus.READY
        document.failure_reason = None
        document.processed_at = document.updated_at = utcnow()
        # Indexed once this commits; a failure there leaves the document ready (its text
        # is stored) and `archive index check --repair` indexes it later.
        search_updates.reindex(session, documents=[document_id])
        audit.record(
            session,
            None,
            "document.processed",
            "document",
            document.number,
            after={
                "pages": document.page_count,
                "method": document.extraction_method,
                "engines": list(extraction.engines),
                "unreadable_pages": document.unreadable_pages,
                "confidence": round(extraction.confidence, 1)
                if extraction.confidence is not None
                else None,
            },
        )
    pending.delete_tracked(container.database, container.store, storage_id, replaced)
    return True


def _discard(container: Container, stored: list[str], storage_id: str) -> None:
    pending.delete_tracked(container.database, container.store, storage_id, stored)


def _fail(
    container: Container,
    document_id: int,
    attempt: int,
    reason: str,
    stored: list[str],
    storage_id: str,
) -> None:
    _discard(container, stored, storage_id)
    with container.database.session() as session:
        document = session.get(Document, document_id)
        if document is None or document.attempts != attempt:
            return
        claims.drop(document)
        document.status = DocumentStatus.FAILED
        document.failure_reason = reason[:2000]
        document.updated_at = utcnow()
        audit.record(
            session,
            None,
            "document.failed",
            "document",
            document.number,
            after={"reason": reason[:500]},
        )


def _requeue_state(container: Container, document_id: int, attempt: int, reason: str) -> None:
    with container.database.session() as session:
        document = session.get(Document, document_id)
        if document is not None and document.attempts == attempt:
            claims.drop(document)
            document.status = DocumentStatus.QUEUED
            document.failure_reason = f"will retry: {reason}"[:2000]
            document.updated_at = utcnow()
