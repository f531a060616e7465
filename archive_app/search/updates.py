"""The one way into the search index: use cases record, one committer applies.

A use case that changes what an entry holds says so in its unit of work:

- :func:`reindex` ``(session, documents=..., archives=...)``: these documents (or every
  document of these archives) get their entries rewritten once the transaction commits —
  never before: on SQLite the open transaction holds the write lock, and an uncommitted
  change must not reach the index. Forgotten if the transaction rolls back.
- :func:`remove` ``(session, documents)``: the entries are deleted as the transaction
  commits, just before it, so that a failed delete fails the commit (a destroyed or
  restricted record must never stay findable), and purged after it (PostgreSQL cannot
  purge what an open transaction might still see). If the commit then fails, they are
  written again.

:class:`IndexCommitter`, installed once on a database's sessions by the container, applies
what was recorded. Small sets are written in the committing thread, large ones (every
document of an archive that was renamed) by one background thread, so a web request does
not wait for them; the hits a search returns are always re-checked against the database,
so a late update never shows a document to someone who may no longer see it. A failure
after the commit is logged and ``archive index check --repair`` catches up.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from archive_app.models import Document
from archive_app.search.entries import delete_entries, write_entries

if TYPE_CHECKING:
    from archive_app.infra.container import Container

log = logging.getLogger(__name__)

_PENDING = "archive.search.pending"
# Up to this many documents are indexed in the committing thread; more go to the
# background thread (one archive's documents after a name or level change).
INLINE_LIMIT = 20


@dataclass
class _Pending:
    documents: set[int] = field(default_factory=set)
    archives: set[int] = field(default_factory=set)
    removals: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)  # deleted before the commit


def _pending(session: Session) -> _Pending:
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = _Pending()
    return pending


def reindex(
    session: Session, *, documents: Iterable[int] = (), archives: Iterable[int] = ()
) -> None:
    """Rewrite these documents' entries (or those of every document of these archives)
    once ``session``'s transaction commits."""
    pending = _pending(session)
    pending.documents.update(documents)
    pending.archives.update(archives)


def remove(session: Session, documents: Iterable[int]) -> None:
    """Delete and purge these documents' entries as ``session``'s transaction commits."""
    _pending(session).removals.update(documents)


class IndexCommitter:
    """Applies what :func:`reindex` and :func:`remove` recorded, around each commit of a
    session made by ``container.database``."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self._queue: queue.Queue[list[int] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def install(self, factory: sessionmaker[Session]) -> None:
        event.listen(factory, "before_commit", self._before_commit)
        event.listen(factory, "after_commit", self._after_commit)
        event.listen(factory, "after_rollback", self._after_rollback)

    # SQLAlchemy fires these events for savepoints too (a bulk edit's per-record
    # savepoint): only the outermost transaction's end applies or forgets anything.

    def _before_commit(self, session: Session) -> None:
        if session.in_nested_transaction():
            return
        pending = session.info.get(_PENDING)
        if pending is None or not pending.removals - pending.removed:
            return
        ids = pending.removals - pending.removed
        delete_entries(self.container, ids, purge=False)  # raises: the commit fails
        pending.removed |= ids

    def _after_commit(self, session: Session) -> None:
        if session.in_nested_transaction():
            return
        pending: _Pending | None = session.info.pop(_PENDING, None)
        if pending is None:
            return
        try:
            if pending.removed:
                delete_entries(self.container, (), purge=True)
            ids = set(pending.documents)
            if pending.archives:
                with self.container.database.session() as own:
                    ids.update(
                        own.scalars(
                            select(Document.id).where(Document.archive_id.in_(pending.archives))
                        )
                    )
            ids -= pending.removed
            if len(ids) <= INLINE_LIMIT:
                write_entries(self.container, ids)
            else:
                self._submit(sorted(ids))
        except Exception:
            # The change itself is committed; the index catches up through
            # `archive index check --repair` or a reindex.
            log.exception("search index update after commit failed")

    def _after_rollback(self, session: Session) -> None:
        if session.in_nested_transaction():
            return
        pending: _Pending | None = session.info.pop(_PENDING, None)
        if pending is None or not pending.removed:
            return
        try:
            # The records were not destroyed after all: their entries come back.
            write_entries(self.container, pending.removed)
        except Exception:
            log.exception("restoring search entries after a rolled-back removal failed")

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
                write_entries(self.container, ids)
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
