"""Waiting until documents are processed, and processing them here when nothing else would.

Contract of :func:`wait_until_processed`: it returns when every given document is ready or
failed (or no longer exists), with its final status and failure reason. While a
background worker is alive (:func:`archive_app.infra.workers.any_background_worker`) it only
watches, every ``poll`` seconds. Whenever none is, it processes the documents still
waiting itself, one after the other, through the same :func:`process_document` the
worker runs, registered as an in-process worker; ``on_inline()`` is called the first time
it does so, and ``on_page(number, done, total)`` reports the pages of the document it is
working on. A worker that starts meanwhile shares the work: each document is claimed by
one process only. ``on_done(done, total)`` reports how many documents are finished.
Interrupted (Ctrl+C), a document it was working on keeps a dead claim, which the next
worker's recovery queues again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from contextlib import ExitStack

from sqlalchemy import select

from archive_app.infra import workers
from archive_app.infra.container import Container
from archive_app.models import Document, DocumentStatus, WorkerKind
from archive_app.services.processing import process_document

FINAL = (DocumentStatus.READY, DocumentStatus.FAILED)


def wait_until_processed(
    container: Container,
    document_ids: Collection[int],
    *,
    on_done: Callable[[int, int], None] | None = None,
    on_inline: Callable[[], None] | None = None,
    on_page: Callable[[str, int, int], None] | None = None,
    poll: float = 1.0,
) -> dict[int, tuple[str, str | None]]:
    outcomes: dict[int, tuple[str, str | None]] = {}
    total = len(document_ids)
    with ExitStack() as stack:
        inline: workers.Registration | None = None
        tried: list[tuple[int, str]] | None = None
        while True:
            waiting, background = _look(container, document_ids, outcomes)
            if on_done is not None:
                on_done(len(outcomes), total)
            if len(outcomes) == total:
                return outcomes
            # Documents another live process holds stay waiting after a pass: try them
            # again only after a pause.
            if waiting and not background and waiting != tried:
                tried = waiting
                if inline is None:
                    inline = stack.enter_context(
                        workers.registered(container.database, WorkerKind.INLINE)
                    )
                    if on_inline is not None:
                        on_inline()
                for document_id, number in waiting:
                    process_document(
                        container,
                        document_id,
                        worker=inline,
                        on_progress=_pages(number, on_page),
                    )
                continue
            tried = None
            time.sleep(poll)


def _look(
    container: Container,
    document_ids: Collection[int],
    outcomes: dict[int, tuple[str, str | None]],
) -> tuple[list[tuple[int, str]], bool]:
    """Record the documents that finished; return those this process could take on (in id
    order: queued ones, or any unfinished one when no background worker is alive) and
    whether a background worker is alive."""
    open_ids = [document_id for document_id in document_ids if document_id not in outcomes]
    with container.database.session() as session:
        rows = {
            row.id: row
            for row in session.execute(
                select(Document.id, Document.number, Document.status, Document.failure_reason)
                .where(Document.id.in_(open_ids))
                .order_by(Document.id)
            )
        }
        background = workers.any_background_worker(session)
    waiting: list[tuple[int, str]] = []
    for document_id in open_ids:
        row = rows.get(document_id)
        if row is None:
            outcomes[document_id] = ("failed", "the document no longer exists")
        elif row.status in FINAL:
            outcomes[document_id] = (row.status.value, row.failure_reason)
        elif row.status == DocumentStatus.QUEUED or not background:
            waiting.append((document_id, row.number))
    return waiting, background


def _pages(
    number: str, on_page: Callable[[str, int, int], None] | None
) -> Callable[[int, int], None] | None:
    if on_page is None:
        return None
    return lambda done, total: on_page(number, done, total)
