"""Claims: the worker processing a document, and what becomes of the document when that
worker is gone.

A processing document names its worker (``Document.claimed_by``). The claim is *dead* when
that worker is not alive (:func:`archive_app.infra.workers.is_alive`) or no worker is named (a
row restored from a backup, or written before claims existed). :func:`release_dead` is
the one way out of a dead claim, used by recovery and by a run that finds one: the
interruption is counted and the document is queued again, or, after
``MAX_INTERRUPTIONS``, failed with the reason, because a file that kills its worker every
time would otherwise kill every worker in turn.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive_app.infra import workers
from archive_app.models import Document, DocumentStatus
from archive_app.models.base import utcnow
from archive_app.services import audit

MAX_INTERRUPTIONS = 3


def take(document: Document, worker_id: int) -> None:
    now = utcnow()
    document.status = DocumentStatus.PROCESSING
    document.claimed_by_id = worker_id
    document.claimed_at = document.updated_at = now


def drop(document: Document) -> None:
    document.claimed_by_id = None
    document.claimed_at = None


def is_dead(document: Document) -> bool:
    return document.status == DocumentStatus.PROCESSING and (
        document.claimed_by is None or not workers.is_alive(document.claimed_by)
    )


def release_dead(session: Session, document: Document) -> bool:
    """Queue a document whose claim is dead again; True if queued, False if it failed."""
    worker = document.claimed_by
    document.interruptions += 1
    drop(document)
    document.updated_at = utcnow()
    details = {
        "worker": f"{worker.hostname}:{worker.pid}" if worker else None,
        "interruptions": document.interruptions,
        "page": document.progress_done,
        "pages": document.progress_total,
    }
    if document.interruptions >= MAX_INTERRUPTIONS:
        reason = (
            f"its worker stopped while processing it {document.interruptions} times; "
            "check the file and the worker's log, then retry it"
        )
        document.status = DocumentStatus.FAILED
        document.failure_reason = reason
        audit.record(
            session, None, "document.failed", "document", document.number, after={"reason": reason}
        )
        return False
    document.status = DocumentStatus.QUEUED
    document.failure_reason = "will retry: the worker processing it stopped"
    audit.record(session, None, "document.interrupted", "document", document.number, after=details)
    return True
