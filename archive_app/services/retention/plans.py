"""A destruction plan: what one execution of a batch destroys, committed before it does.

Contract: a :class:`Plan` names every record to destroy (with the store objects and keys
it loses), every customer archive left without a live record (its storage id, whose key
is destroyed, and the fresh storage id it moves to) and what the re-check skipped. It is
recorded as the payload of a signed destruction-ledger entry, beside the executed batch
(``retention.batch_to_dict``) and the signed certificate, so the entry alone says
everything a restore needs to destroy the same records again.

:func:`record_decision` makes the decision durable in the caller's transaction, which is
the commit point of an execution: the ``destruction_plans`` row (state ``decided``, the
entry), every planned record's ``destruction_plan_id`` (from then on the record cannot be
changed, held or read: :func:`archive_app.models.Document.is_being_destroyed`), and each
emptied archive moved to its fresh storage id (so what is filed from then on goes under
the new key, never under the one about to be destroyed). Completing a plan
(:mod:`.completion`) only ever finishes what was decided here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive_app.models import CustomerArchive, DestructionPlan, Document, User
from archive_app.services.retention.facts import CHUNK
from retention import GENESIS, LedgerEntry

DECIDED = "decided"
COMPLETED = "completed"


@dataclass(frozen=True)
class PlannedRecord:
    document: str  # the document number
    storage_id: str  # the store archive holding its objects
    objects: tuple[str, ...]  # every object of every version
    keys: tuple[str, ...]  # what the certificate lists as destroyed with it
    rule: str
    rule_version: int
    eligible_on: date

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "storage_id": self.storage_id,
            "objects": list(self.objects),
            "keys": list(self.keys),
            "rule": self.rule,
            "rule_version": self.rule_version,
            "eligible_on": self.eligible_on.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedRecord:
        return cls(
            data["document"],
            data["storage_id"],
            tuple(data["objects"]),
            tuple(data["keys"]),
            data["rule"],
            data["rule_version"],
            date.fromisoformat(data["eligible_on"]),
        )


@dataclass(frozen=True)
class EmptiedArchive:
    archive: str  # the customer archive's number
    storage_id: str  # destroyed with its key
    fresh_storage_id: str  # where the archive files from the decision on

    def to_json(self) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "storage_id": self.storage_id,
            "fresh_storage_id": self.fresh_storage_id,
        }


@dataclass(frozen=True)
class Plan:
    batch: str
    certificate_id: str
    executor: str
    decided_at: datetime
    as_of: date  # the day the batch was re-checked for
    records: tuple[PlannedRecord, ...]
    archives: tuple[EmptiedArchive, ...]
    skipped: tuple[dict[str, Any], ...]  # as the run report shows them
    erasure_request: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "certificate_id": self.certificate_id,
            "executor": self.executor,
            "decided_at": self.decided_at.isoformat(),
            "as_of": self.as_of.isoformat(),
            "records": [record.to_json() for record in self.records],
            "archives": [archive.to_json() for archive in self.archives],
            "skipped": list(self.skipped),
            "erasure_request": self.erasure_request,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(
            data["batch"],
            data["certificate_id"],
            data["executor"],
            datetime.fromisoformat(data["decided_at"]),
            date.fromisoformat(data["as_of"]),
            tuple(PlannedRecord.from_json(r) for r in data["records"]),
            tuple(EmptiedArchive(**a) for a in data["archives"]),
            tuple(data["skipped"]),
            data["erasure_request"],
        )


@dataclass(frozen=True)
class Decision:
    """What a ledger entry's payload holds."""

    plan: Plan
    batch_state: dict[str, Any]  # the executed batch, ``retention.batch_to_dict``
    certificate: bytes  # the signed certificate file

    def payload(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_json(),
            "batch": self.batch_state,
            "certificate": self.certificate.decode("utf-8"),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Decision:
        return cls(
            Plan.from_json(payload["plan"]),
            payload["batch"],
            payload["certificate"].encode("utf-8"),
        )

    @classmethod
    def of(cls, row: DestructionPlan) -> Decision:
        """The decision a plan row holds (its own entry: trusted, not re-verified)."""
        return cls.from_payload(json.loads(row.ledger_entry)["entry"]["payload"])


def next_ledger_position(session: Session) -> tuple[int, str]:
    """The number of the next ledger entry and the hash it follows. Decisions are taken
    under the retention lock, so two never get the same number."""
    last = session.scalar(select(DestructionPlan).order_by(DestructionPlan.ledger_seq.desc()))
    return (1, GENESIS) if last is None else (last.ledger_seq + 1, last.ledger_sha256)


def record_decision(
    session: Session,
    *,
    batch_id: int,
    executor: User,
    decision: Decision,
    entry: LedgerEntry,
) -> DestructionPlan:
    """Record the decision in ``session``'s transaction (see the module doc)."""
    plan = decision.plan
    row = DestructionPlan(
        batch_id=batch_id,
        certificate_id=plan.certificate_id,
        executor_id=executor.id,
        state=DECIDED,
        decided_at=plan.decided_at,
        ledger_seq=entry.seq,
        ledger_sha256=entry.sha256,
        ledger_entry=entry.raw.decode("utf-8"),
    )
    session.add(row)
    session.flush()
    numbers = [record.document for record in plan.records]
    for start in range(0, len(numbers), CHUNK):
        session.execute(
            update(Document)
            .where(
                Document.number.in_(numbers[start : start + CHUNK]),
                Document.destroyed_at.is_(None),
            )
            .values(destruction_plan_id=row.id)
            .execution_options(synchronize_session=False)
        )
    for archive in plan.archives:
        session.execute(
            update(CustomerArchive)
            .where(
                CustomerArchive.number == archive.archive,
                CustomerArchive.storage_id == archive.storage_id,
            )
            .values(storage_id=archive.fresh_storage_id)
            .execution_options(synchronize_session=False)
        )
    return row


def pending(session: Session) -> Sequence[int]:
    """Ids of the plans decided and not completed, in ledger order."""
    return session.scalars(
        select(DestructionPlan.id)
        .where(DestructionPlan.state == DECIDED)
        .order_by(DestructionPlan.ledger_seq)
    ).all()


def plan_for_batch(session: Session, batch_id: int) -> DestructionPlan | None:
    return session.scalar(select(DestructionPlan).where(DestructionPlan.batch_id == batch_id))
