"""Appending many audit entries at once (one per destroyed record).

Contract: the same entries, hashes and chain as ``services.audit.record`` called once per
entry in order (same hash function, same head row locked for the transaction), but the head
is locked and updated once and the rows are inserted in one statement: a destruction batch
of 10,000 records writes 10,000 entries without 10,000 round trips.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from archive_app.models import AuditEntry, AuditHead, User
from archive_app.models.base import utcnow
from archive_app.services.audit import SYSTEM_ACTOR, _plain, compute_entry_hash


def record_many(
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    entries: Iterable[tuple[str, Mapping[str, Any] | None]],
) -> int:
    """Append ``(object_id, after)`` entries in order; returns how many were written."""
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()
    seq, prev = head.last_seq, head.last_hash
    actor_name = actor.username if actor is not None else SYSTEM_ACTOR
    rows = []
    for object_id, after in entries:
        seq += 1
        at = utcnow()
        values = _plain(after)
        entry_hash = compute_entry_hash(
            seq=seq,
            at=at,
            actor_name=actor_name,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            before=None,
            after=values,
            prev_hash=prev,
        )
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor_id": actor.id if actor is not None else None,
                "actor_name": actor_name,
                "action": action,
                "object_type": object_type,
                "object_id": str(object_id),
                "before": None,
                "after": values,
                "prev_hash": prev,
                "entry_hash": entry_hash,
            }
        )
        prev = entry_hash
    for start in range(0, len(rows), 1000):
        session.execute(insert(AuditEntry), rows[start : start + 1000])
    head.last_seq, head.last_hash = seq, prev
    session.flush()
    return len(rows)
