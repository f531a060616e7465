"""Replaying the destruction ledger into a restored database.

Contract of :func:`replay_decisions` ``(session, actor, entries)``: ``entries`` are the
verified ledger entries the restored database does not hold, in ledger order. Each
decision is recorded again exactly as the run that took it recorded it
(:func:`plans.record_decision`): its batch gets the executed state from the entry (and
is created from it when the backup predates the batch, its number reserved so it is never
handed out again), the plan row holds the very same entry, every record of it that the
backup holds points at it, and each emptied archive moves to its fresh storage id.
Nothing is shredded here: once the caller has committed, :func:`completion.recover_interrupted`
completes these plans exactly like interrupted executions (shreds what the backup brought
back, writes stubs, destruction records, certificates and audit entries). Records filed
after the backup are not in it: the restored certificate names them.

Returns, per entry, what the restore's audit entry records about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_app.models import DispositionBatch, Document, ErasureRequest, User
from archive_app.services.retention import batches
from archive_app.services.retention.plans import Decision, record_decision
from retention import LedgerEntry, batch_from_dict


def replay_decisions(
    session: Session, actor: User, entries: Sequence[LedgerEntry]
) -> list[dict[str, Any]]:
    replayed = []
    for entry in entries:
        decision = Decision.from_payload(dict(entry.payload))
        plan = decision.plan
        row = _batch_row(session, decision, actor)
        plan_row = record_decision(
            session,
            batch_id=row.id,
            executor=_user(session, plan.executor) or actor,
            decision=decision,
            entry=entry,
        )
        present = session.scalar(
            select(func.count(Document.id)).where(Document.destruction_plan_id == plan_row.id)
        )
        replayed.append(
            {
                "ledger_entry": entry.seq,
                "batch": plan.batch,
                "certificate": plan.certificate_id,
                "records": len(plan.records),
                "records_in_backup": present,
            }
        )
    return replayed


def _user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def _batch_row(session: Session, decision: Decision, actor: User) -> DispositionBatch:
    plan, batch = decision.plan, batch_from_dict(decision.batch_state)
    row = session.scalar(select(DispositionBatch).where(DispositionBatch.number == plan.batch))
    if row is None:
        request = None
        if plan.erasure_request is not None:
            request = session.scalar(
                select(ErasureRequest.id).where(ErasureRequest.number == plan.erasure_request)
            )
        row = DispositionBatch(
            number=plan.batch,
            as_of=batch.as_of,
            state_json={},
            created_by_id=(_user(session, batch.created_by) or actor).id,
            created_at=batch.created_at,
            erasure_request_id=request,
        )
        batches.save(row, batch)
        session.add(row)
        batches.reserve_batch_number(session, plan.batch)
    batches.save(row, batch)
    row.executed_at = plan.decided_at
    session.flush()
    return row
