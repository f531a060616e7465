"""Appending to and verifying the hash-chained audit trail.

The hash of an entry covers its sequence number, time (UTC, microseconds), actor, action,
object and before/after values in canonical JSON, plus the previous entry's hash, and its
outcome when that is not ``ok`` (a refusal or a failed login; entries written before
outcomes existed are all ``ok`` and keep their hashes). Editing
any of those, deleting an entry (including the newest: the head row remembers it) or
reordering entries breaks the chain, and :func:`verify_chain` names the first broken link.
Deleting the newest entries *and* rewriting the head row is found against the signed
checkpoints kept outside the database (:mod:`archive_app.services.audit_checkpoints`),
which :func:`verify_chain` takes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from archive_app.models import AuditEntry, AuditHead, User
from archive_app.models.audit import GENESIS_HASH
from archive_app.models.base import utcnow

SYSTEM_ACTOR = "system"
OK, REFUSED, FAILED = "ok", "refused", "failed"


def _canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_entry_hash(
    *,
    seq: int,
    at: datetime,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    prev_hash: str,
    outcome: str = OK,
) -> str:
    fields: dict[str, Any] = {
        "seq": seq,
        "at": _canonical_time(at),
        "actor": actor_name,
        "action": action,
        "object": [object_type, object_id],
        "before": before,
        "after": after,
        "prev": prev_hash,
    }
    if outcome != OK:
        fields["outcome"] = outcome
    material = json.dumps(
        fields,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _locked_head(session: Session) -> AuditHead:
    return session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()


def _chained_row(
    *,
    seq: int,
    prev_hash: str,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str | int,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    outcome: str = OK,
    actor_name: str | None = None,
) -> dict[str, Any]:
    """The column values of entry ``seq``, hashed onto ``prev_hash``."""
    at = utcnow()
    if actor_name is None:
        actor_name = actor.username if actor is not None else SYSTEM_ACTOR
    before_values = _plain(before)
    after_values = _plain(after)
    entry_hash = compute_entry_hash(
        seq=seq,
        at=at,
        actor_name=actor_name,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before_values,
        after=after_values,
        prev_hash=prev_hash,
        outcome=outcome,
    )
    return {
        "seq": seq,
        "at": at,
        "actor_id": actor.id if actor is not None else None,
        "actor_name": actor_name,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": before_values,
        "after": after_values,
        "outcome": outcome,
        "prev_hash": prev_hash,
        "entry_hash": entry_hash,
    }


def record(
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str | int,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    outcome: str = OK,
    actor_name: str | None = None,
) -> AuditEntry:
    """Append one entry. Call it last in the unit of work: it locks the chain head until
    the transaction commits, which serialises concurrent writers of the trail.

    ``outcome`` is ``ok`` unless a refusal or failure is recorded; ``actor_name`` names an
    actor that is not a user of this instance (the name typed at a failed login)."""
    head = _locked_head(session)
    entry = AuditEntry(
        **_chained_row(
            seq=head.last_seq + 1,
            prev_hash=head.last_hash,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            before=before,
            after=after,
            outcome=outcome,
            actor_name=actor_name,
        )
    )
    session.add(entry)
    head.last_seq = entry.seq
    head.last_hash = entry.entry_hash
    session.flush()
    return entry


def record_many(
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    entries: Iterable[tuple[str, Mapping[str, Any] | None]],
) -> int:
    """Append ``(object_id, after)`` entries in order, exactly as many :func:`record`
    calls would, but locking and updating the head once and inserting in bulk (a
    destruction batch of 10,000 records). Returns how many were written."""
    head = _locked_head(session)
    seq, prev = head.last_seq, head.last_hash
    rows = []
    for object_id, after in entries:
        seq += 1
        row = _chained_row(
            seq=seq,
            prev_hash=prev,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            before=None,
            after=after,
        )
        rows.append(row)
        prev = row["entry_hash"]
    for start in range(0, len(rows), 1000):
        session.execute(insert(AuditEntry), rows[start : start + 1000])
    head.last_seq, head.last_hash = seq, prev
    session.flush()
    return len(rows)


def _plain(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    # Round-trip through JSON so what is hashed is exactly what the database returns.
    return json.loads(json.dumps(dict(values), ensure_ascii=False, default=str))


class SignedHead(Protocol):
    """An entry the trail must contain, as a signed checkpoint recorded it."""

    @property
    def seq(self) -> int: ...
    @property
    def entry_hash(self) -> str: ...
    @property
    def signed_at(self) -> datetime: ...


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    broken_at: int | None = None
    problem: str | None = None
    checked_against: int | None = None  # the highest signed checkpoint found intact

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "broken_at": self.broken_at,
            "problem": self.problem,
            "checkpoint": self.checked_against,
        }


def verify_chain(
    session: Session,
    *,
    checkpoints: Sequence[SignedHead] = (),
    on_progress: Callable[[int, int], None] | None = None,
    batch_size: int = 5000,
) -> ChainReport:
    """Walk the whole trail in order and report the first broken link, if any, and any
    signed checkpoint the trail no longer matches or no longer reaches."""
    signed = {c.seq: c for c in checkpoints}
    checked_against: int | None = None
    head = session.get(AuditHead, 1)
    if head is None:
        return ChainReport(False, 0, None, "the audit head row is missing")
    total = head.last_seq
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    last_seq = 0
    while True:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                return ChainReport(
                    False,
                    count,
                    expected_seq,
                    f"entry {expected_seq} is missing (next is {entry.seq})",
                )
            if entry.prev_hash != expected_prev:
                return ChainReport(
                    False,
                    count,
                    entry.seq,
                    f"entry {entry.seq} does not link to entry {entry.seq - 1}",
                )
            recomputed = compute_entry_hash(
                seq=entry.seq,
                at=entry.at,
                actor_name=entry.actor_name,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                before=entry.before,
                after=entry.after,
                prev_hash=entry.prev_hash,
                outcome=entry.outcome,
            )
            if recomputed != entry.entry_hash:
                return ChainReport(False, count, entry.seq, f"entry {entry.seq} was altered")
            mark = signed.get(entry.seq)
            if mark is not None:
                if mark.entry_hash != entry.entry_hash:
                    return ChainReport(
                        False,
                        count,
                        entry.seq,
                        f"entry {entry.seq} differs from the checkpoint signed "
                        f"{_canonical_time(mark.signed_at)}",
                    )
                checked_against = entry.seq
            expected_prev = entry.entry_hash
            expected_seq += 1
            count += 1
            last_seq = entry.seq
        if on_progress is not None:
            on_progress(count, total)
        session.expunge_all()
    if count != total or expected_prev != head.last_hash:
        return ChainReport(
            False,
            count,
            count + 1,
            f"the trail ends at entry {count} but the head records {total} entries",
        )
    beyond = [c for c in checkpoints if c.seq > count]
    if beyond:
        latest = max(beyond, key=lambda c: c.seq)
        return ChainReport(
            False,
            count,
            count + 1,
            f"the trail was truncated: it ends at entry {count} but the checkpoint signed "
            f"{_canonical_time(latest.signed_at)} records entry {latest.seq}",
            checked_against,
        )
    return ChainReport(True, count, checked_against=checked_against)
