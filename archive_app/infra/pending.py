"""Objects in flight, so that a process killed between the store and the database leaves
no object behind that nothing references (:class:`~archive_app.models.PendingObject`).

The protocol, for a new object:

1. :func:`track` its id, chosen beforehand, in a transaction that commits before the
   object is stored (intake's permission check, the pipeline's claim);
2. store it under that id;
3. :func:`settle` it in the transaction that makes a row reference it. ``settle`` fails
   with :class:`ObjectReclaimed` if recovery has claimed the object in the meantime, so
   that transaction rolls back instead of committing a reference to a deleted object.

For an object a transaction stops referencing: :func:`track` it in that transaction, and
after the commit :func:`delete_tracked` deletes it and then its row. A failure path that
stored an object no row will reference calls :func:`delete_tracked` too.

:func:`reclaim` (run by recovery) deletes the objects of rows whose process is gone: the
row is first marked reclaimed in a transaction of its own (so ``settle`` can no longer
succeed), then the object is deleted, then the row. A crash at any step leaves the row,
and the next ``reclaim`` finishes the work. An object that a live document or version
does reference is never deleted; only its stray row is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archive_app.domain.references import referenced_objects
from archive_app.errors import Conflict
from archive_app.infra import processes
from archive_app.infra.db import Database
from archive_app.models import PendingObject
from archive_app.models.base import utcnow
from storage import ArchiveNotFound, BlobStore, ObjectNotFound

# A row whose process runs on another host is reclaimed only when it is this old: no
# store or delete of a single object takes that long.
FOREIGN_OWNER_TIMEOUT = timedelta(hours=1)


class ObjectReclaimed(Conflict):
    def __init__(self, storage_id: str, object_ids: Sequence[str]) -> None:
        super().__init__(
            "the stored file was removed by recovery before it could be filed "
            "(its process looked dead); file it again"
        )
        self.storage_id = storage_id
        self.object_ids = list(object_ids)


def track(session: Session, storage_id: str, object_ids: Sequence[str]) -> None:
    me = processes.current()
    session.add_all(
        PendingObject(
            storage_id=storage_id,
            object_id=object_id,
            owner_hostname=me.hostname,
            owner_pid=me.pid,
        )
        for object_id in object_ids
    )


def settle(session: Session, storage_id: str, object_ids: Sequence[str]) -> None:
    wanted = list(dict.fromkeys(object_ids))
    result = session.execute(
        delete(PendingObject).where(
            PendingObject.storage_id == storage_id,
            PendingObject.object_id.in_(wanted),
            PendingObject.reclaimed_at.is_(None),
        )
    )
    if result.rowcount != len(wanted):
        raise ObjectReclaimed(storage_id, wanted)


def delete_tracked(
    database: Database, store: BlobStore, storage_id: str, object_ids: Sequence[str]
) -> None:
    for object_id in object_ids:
        _delete_object(store, storage_id, object_id)
    with database.session() as session:
        session.execute(
            delete(PendingObject).where(
                PendingObject.storage_id == storage_id, PendingObject.object_id.in_(object_ids)
            )
        )


def reclaim(database: Database, store: BlobStore) -> int:
    """Delete what processes that are gone left in flight; returns the objects deleted."""
    deleted = 0
    for row_id in _abandoned(database):
        with database.session() as session:
            row = session.get(PendingObject, row_id)
            if row is None:
                continue  # settled or reclaimed meanwhile
            row.reclaimed_at = row.reclaimed_at or utcnow()
            storage_id, object_id = row.storage_id, row.object_id
            in_use = bool(referenced_objects(session, storage_id, [object_id]))
        if not in_use and _delete_object(store, storage_id, object_id):
            deleted += 1
        with database.session() as session:
            session.execute(delete(PendingObject).where(PendingObject.id == row_id))
    return deleted


def _abandoned(database: Database) -> list[int]:
    cutoff = utcnow() - FOREIGN_OWNER_TIMEOUT
    with database.session() as session:
        rows = session.execute(
            select(
                PendingObject.id,
                PendingObject.owner_hostname,
                PendingObject.owner_pid,
                PendingObject.created_at,
                PendingObject.reclaimed_at,
            ).order_by(PendingObject.id)
        ).all()
    return [
        row_id
        for row_id, hostname, pid, created_at, reclaimed_at in rows
        if reclaimed_at is not None or created_at < cutoff or processes.is_gone(hostname, pid)
    ]


def _delete_object(store: BlobStore, storage_id: str, object_id: str) -> bool:
    try:
        store.delete(storage_id, object_id)
    except ObjectNotFound:
        # Never stored or already deleted; or its put stopped after the blob was written
        # and before its key was: that blob goes too (its writer is done, one way or another).
        return store.collect_orphan(storage_id, object_id)
    except ArchiveNotFound:
        return False  # its archive was destroyed, and the blob with it
    return True
