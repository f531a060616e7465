"""The application's side of the full-text index: what goes into it and when.

Contract
--------
* One index entry per document that is ``ready`` and not destroyed, keyed by the
  document's database id (as a string). The entry carries the archive id and number, the
  class code, the filing state (``ready``, or ``declared`` once the checklist line is
  confirmed), the archive's confidentiality level, the document date, the amount, the
  title, and the analysed text: archive name, class field values and the extracted text,
  read from the encrypted store. The index never stores the text itself.
* :func:`index_document` / :func:`index_documents` (re)write entries from the database
  and the store; a document that is not indexable is removed instead.
* Changes to indexed values (a document's title, class, fields, dates, amount,
  declaration or destruction; an archive's name, number or level) made in any session of
  the container's database are noticed at flush and reindexed after that transaction
  commits (never before: on SQLite the open transaction holds the write lock, and an
  uncommitted change must not reach the index). :func:`mark_changed` asks for the same
  explicitly. Small sets are indexed at once, large ones (an archive with many documents)
  by one background thread, so a web request does not wait for them; the hits a search
  returns are always re-checked against the database, so a late update never shows a
  document to someone who may no longer see it. Processing (a status change) is left to
  the pipeline, which indexes after its own commit.
* :func:`remove_documents` deletes entries and purges them: afterwards their terms are
  physically gone from the index storage (Whoosh segments rewritten, PostgreSQL
  ``VACUUM FULL``). From inside the destroying transaction, pass its session: the purge
  then follows the commit (PostgreSQL cannot purge what an open transaction of the same
  database might still see).
* Rebuilding and checking the whole index: :mod:`archive_app.search_maintenance`.

Library errors are translated here into :class:`~archive_app.errors.AppError` types.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from archive_app.errors import AppError
from archive_app.models import CustomerArchive, Document, DocumentStatus, ErasureRequest

if TYPE_CHECKING:
    from archive_app.config import Settings
    from archive_app.container import Container
    from indexing.search import IndexDocument, SearchBackend

log = logging.getLogger(__name__)

PENDING_KEY = "search_pending"
# Up to this many documents are indexed in the committing thread; more go to the
# background thread (one archive's documents after a name or level change).
INLINE_LIMIT = 20
BATCH = 200


# ------------------------------------------------------------------------------ errors


class SearchUnavailable(AppError):
    """The search backend failed (index locked, database unreachable, corrupt index)."""

    http_status = 503
    code = "search_unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(f"search is unavailable: {detail}")
        self.detail = detail


class PurgeNotFinished(SearchUnavailable):
    """Removed entries may still be in the index storage; run the purge again."""

    code = "purge_incomplete"

    def __init__(self, blocking: list[int]) -> None:
        super().__init__(
            "deleted entries may still be in the index files because database sessions "
            f"{blocking} held old snapshots; run `archive index check --repair` later"
        )
        self.blocking = blocking


def translate(error: Exception) -> AppError:
    from indexing.search import PurgeIncomplete

    if isinstance(error, PurgeIncomplete):
        return PurgeNotFinished(error.blocking_pids)
    return SearchUnavailable(str(error))


# ----------------------------------------------------------------------------- backend


def open_search_backend(settings: Settings) -> SearchBackend:
    """The backend named by the settings; ``table=`` in a PostgreSQL URL picks the table."""
    from indexing.search import SearchError, open_backend

    url = settings.resolved_search_url
    options: dict[str, Any] = {}
    if not url.startswith(("whoosh:", "tantivy:")):  # folder URLs carry no query
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        for name, value in query:
            if name == "table":
                options["table"] = value
        rest = [(n, v) for n, v in query if n != "table"]
        url = urlunsplit(parts._replace(query=urlencode(rest)))
    try:
        return open_backend(url, **options)
    except SearchError as error:
        raise translate(error) from error


# ------------------------------------------------------------------------------ entries


def indexable(document: Document) -> bool:
    return (
        document.status == DocumentStatus.READY
        and document.destroyed_at is None
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


def entry_for(container: Container, document: Document) -> IndexDocument:
    from indexing.search import IndexDocument

    archive = document.archive
    metadata = " ".join(str(v) for v in (document.fields or {}).values() if v)
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
            .options(joinedload(Document.archive), joinedload(Document.document_class))
            .where(Document.id.in_(ids), not_restricted())
            .order_by(Document.id)
        )
    )


def index_documents(container: Container, document_ids: Iterable[int]) -> int:
    """(Re)index these documents from the database and the store; documents that are not
    indexable (gone, not ready, destroyed) are removed from the index. Returns how many
    entries were written."""
    from indexing.search import SearchError

    ids = sorted(set(document_ids))
    written = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        with container.database.session() as session:
            documents = load_documents(session, chunk)
        # Decrypt outside the transaction: on SQLite it holds the write lock.
        entries = [entry_for(container, d) for d in documents if indexable(d)]
        stale = set(map(str, chunk)) - {e.doc_id for e in entries}
        try:
            if entries:
                written += container.search.add(entries)
            if stale:
                container.search.delete(sorted(stale))
        except SearchError as error:
            raise translate(error) from error
    return written


def index_document(container: Container, document_id: int) -> bool:
    """(Re)index one document; True if it is in the index afterwards."""
    return index_documents(container, [document_id]) == 1


def index_after_processing(container: Container, document_id: int) -> None:
    """The pipeline's last step: index the document it has just committed as ready. A
    failure here does not fail the document (its text is safely stored); it is logged and
    `archive index check --repair` indexes it later."""
    try:
        index_document(container, document_id)
    except Exception:
        log.exception("indexing document %s after processing failed", document_id)


def remove_documents(
    container: Container, document_ids: Iterable[int], *, session: Session | None = None
) -> int:
    """Delete these documents' entries and purge them from the index storage.

    Called from inside the destroying transaction, pass its ``session``: the entries are
    deleted at once and the purge runs when that transaction commits (PostgreSQL cannot
    purge rows that an open transaction of the same database might still see, so purging
    earlier would wait for the caller itself). A purge after commit that other sessions
    hold back is logged; ``archive index check --repair`` purges again.
    """
    from indexing.search import SearchError

    ids = sorted({str(i) for i in document_ids})
    if not ids:
        return 0
    try:
        container.search.delete(ids)
        if session is not None and session.in_transaction():
            from sqlalchemy import event

            event.listen(session, "after_commit", lambda _s: _purge_quietly(container), once=True)
        else:
            container.search.purge()
    except SearchError as error:
        raise translate(error) from error
    return len(ids)


def _purge_quietly(container: Container) -> None:
    try:
        container.search.purge()
    except Exception:
        log.exception("purging removed documents from the search index failed")


# ------------------------------------------------------------ updates after a commit


def mark_changed(
    session: Session, *, document_ids: Iterable[int] = (), archive_id: int | None = None
) -> None:
    """Ask for these documents (or every document of an archive) to be reindexed once the
    session's transaction commits. Forgotten if it rolls back."""
    pending = session.info.setdefault(PENDING_KEY, {"documents": set(), "archives": set()})
    pending["documents"].update(document_ids)
    if archive_id is not None:
        pending["archives"].add(archive_id)


INDEXED_DOCUMENT_ATTRIBUTES = (
    "title",
    "class_id",
    "fields",
    "document_date",
    "amount",
    "declared_at",
    "destroyed_at",
    "text_object_id",
)
INDEXED_ARCHIVE_ATTRIBUTES = ("name", "level", "number")


def _changed(obj: object, attributes: tuple[str, ...]) -> bool:
    from sqlalchemy import inspect

    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


class IndexUpdater:
    """Runs the updates :func:`mark_changed` asked for, after each commit of a session
    made by ``container.database``. Installed once by the container."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self._queue: queue.Queue[list[int] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def install(self) -> None:
        from sqlalchemy import event

        factory = self.container.database.session_factory
        event.listen(factory, "before_flush", self._before_flush)
        event.listen(factory, "after_commit", self._after_commit)
        event.listen(factory, "after_rollback", self._after_rollback)

    def _before_flush(self, session: Session, _context: object, _instances: object) -> None:
        """Notice changes to indexed values wherever they are made (declaration by the
        checklist, edits, destruction), so no service has to remember to ask."""
        for obj in session.dirty:
            if isinstance(obj, Document) and obj.id is not None:
                if _changed(obj, ("status",)):
                    continue  # processing: the pipeline indexes after its own commit
                if _changed(obj, INDEXED_DOCUMENT_ATTRIBUTES):
                    mark_changed(session, document_ids=[obj.id])
            elif (
                isinstance(obj, CustomerArchive)
                and obj.id is not None
                and _changed(obj, INDEXED_ARCHIVE_ATTRIBUTES)
            ):
                mark_changed(session, archive_id=obj.id)

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(PENDING_KEY, None)

    def _after_commit(self, session: Session) -> None:
        pending = session.info.pop(PENDING_KEY, None)
        if not pending:
            return
        try:
            ids = set(pending["documents"])
            if pending["archives"]:
                with self.container.database.session() as own:
                    ids.update(
                        own.scalars(
                            select(Document.id).where(Document.archive_id.in_(pending["archives"]))
                        )
                    )
            if len(ids) <= INLINE_LIMIT:
                index_documents(self.container, ids)
            else:
                self._submit(sorted(ids))
        except Exception:
            # The change itself is committed; the index catches up through
            # `archive index check --repair` or a reindex.
            log.exception("search index update after commit failed")

    def _submit(self, ids: list[int]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="search-index-updater", daemon=True
                )
                self._thread.start()
        self._queue.put(ids)

    def _run(self) -> None:
        while True:
            ids = self._queue.get()
            try:
                if ids is None:
                    return
                index_documents(self.container, ids)
            except Exception:
                log.exception("background search index update failed")
            finally:
                self._queue.task_done()

    def drain(self) -> None:
        """Wait until every submitted update has been written."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.join()

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join()
