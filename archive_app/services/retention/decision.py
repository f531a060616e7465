"""Deciding an execution (监销): re-check the batch, then record what will be destroyed.

Contract:

- :func:`assess` re-decides every item of an approved batch with fresh facts and the
  current rules on the execution day (the engine's ``execute_check``: holds, unsettled
  claims, eligibility, rule version, reviewed 'extend') and finds, for each cleared record,
  every store object of every version, and the customer archives that would be left with
  no live record. It changes nothing: the dry run reports it as it is.
- :func:`decide` turns an assessment into a decision in the caller's transaction, which
  the caller commits before anything is destroyed: it refuses a record another batch is
  already destroying; checks that every ledger folder can take the entry (otherwise
  nothing happens at all); gives each emptied archive a fresh key in the store; records
  the execution in the batch; builds and signs the certificate; signs the ledger entry
  holding plan, batch and certificate; records the decision (:func:`plans.record_decision`)
  and audits it (``retention.batch.decide``).

The executor's sight of every item, the approval checks and the retention lock (which
keeps a hold from landing between the re-check and the commit) are the caller's
(:func:`archive_app.services.retention.destruction.run_batch`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_app.infra.container import Container
from archive_app.models import (
    CustomerArchive,
    DestructionPlan,
    DispositionBatch,
    Document,
    DocumentVersion,
    ErasureRequest,
    User,
)
from archive_app.services import audit
from archive_app.services.retention import batches, ledger
from archive_app.services.retention.certificate_files import signing_key
from archive_app.services.retention.errors import BeingDestroyed, translate
from archive_app.services.retention.facts import CHUNK, RecordRow, load_facts
from archive_app.services.retention.holds import destroying_batch
from archive_app.services.retention.plans import (
    Decision,
    EmptiedArchive,
    Plan,
    PlannedRecord,
    next_ledger_position,
    record_decision,
)
from archive_app.services.retention.schedule import current_rule_set, rules_by_class
from retention import (
    Batch,
    ExecutionCheck,
    RecordFacts,
    RecordMeta,
    RetentionError,
    batch_to_dict,
    build_certificate,
    execute_check,
    record_execution,
    sign_certificate,
    sign_entry,
)


@dataclass(frozen=True)
class Target:
    row: RecordRow
    sha256: str
    objects: tuple[str, ...]


@dataclass(frozen=True)
class Assessment:
    check: ExecutionCheck
    facts: dict[str, RecordFacts]
    rows: dict[str, RecordRow]
    targets: dict[str, Target]  # by document number, in the check's order
    emptied: dict[str, str]  # archive number -> storage id, archives left without a record

    @property
    def skipped(self) -> list[dict[str, object]]:
        return [
            {
                "document": s.record_id,
                "reason": s.reason.value,
                "detail": s.detail,
                "holds": sorted(s.hold_ids),
            }
            for s in self.check.skipped
        ]

    @property
    def object_count(self) -> int:
        return sum(len(target.objects) for target in self.targets.values())


def assess(
    session: Session, actor: User, batch: Batch, as_of: date, *, lock_archives: bool
) -> Assessment:
    """See the module doc; ``lock_archives`` row-locks the archives of the cleared records
    (PostgreSQL) so that no document is filed into one between counting its live records
    and the commit."""
    facts, rows = load_facts(session, document_numbers=[item.record_id for item in batch.items])
    rules = rules_by_class(session, current_rule_set(session))
    try:
        check = execute_check(batch, facts, rules, as_of, executor=actor.username)
    except RetentionError as error:
        raise translate(error) from None
    targets = _targets(session, [rows[number] for number in check.destroy_ids])
    emptied = _archives_emptied(session, list(targets.values()), lock=lock_archives)
    return Assessment(check, facts, rows, targets, emptied)


def _version_objects(session: Session, document_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for start in range(0, len(document_ids), CHUNK):
        chunk = document_ids[start : start + CHUNK]
        for document_id, *objects in session.execute(
            select(
                DocumentVersion.document_id,
                DocumentVersion.original_object_id,
                DocumentVersion.text_object_id,
                DocumentVersion.rendition_object_id,
            ).where(DocumentVersion.document_id.in_(chunk))
        ):
            found.setdefault(document_id, []).extend(o for o in objects if o)
    return found


def _targets(session: Session, rows: list[RecordRow]) -> dict[str, Target]:
    ids = [row.id for row in rows]
    versions = _version_objects(session, ids)
    documents: dict[int, tuple[str | None, ...]] = {}
    for start in range(0, len(ids), CHUNK):
        for document_id, *values in session.execute(
            select(
                Document.id,
                Document.sha256,
                Document.original_object_id,
                Document.text_object_id,
                Document.rendition_object_id,
            ).where(Document.id.in_(ids[start : start + CHUNK]))
        ):
            documents[document_id] = tuple(values)
    targets = {}
    for row in rows:
        sha, *objects = documents[row.id]
        every = dict.fromkeys([o for o in objects if o] + versions.get(row.id, []))
        targets[row.number] = Target(row, sha or "", tuple(every))
    return targets


def _archives_emptied(session: Session, targets: list[Target], *, lock: bool) -> dict[str, str]:
    by_archive: dict[int, list[Target]] = {}
    for target in targets:
        by_archive.setdefault(target.row.archive_id, []).append(target)
    emptied = {}
    for archive_id, group in sorted(by_archive.items()):
        query = select(CustomerArchive).where(CustomerArchive.id == archive_id)
        archive = session.scalar(query.with_for_update() if lock else query)
        assert archive is not None
        live = session.scalar(
            select(func.count(Document.id)).where(
                Document.archive_id == archive_id, Document.destroyed_at.is_(None)
            )
        )
        if live == len(group):
            emptied[archive.number] = archive.storage_id
    return emptied


def decide(
    container: Container,
    session: Session,
    actor: User,
    row: DispositionBatch,
    batch: Batch,
    assessment: Assessment,
    now: datetime,
) -> DestructionPlan:
    """Record the decision of executing ``batch`` in ``session`` (see the module doc)."""
    _refuse_records_being_destroyed(session, [t.row.id for t in assessment.targets.values()])
    settings = container.settings
    seq, prev = next_ledger_position(session)
    ledger.check_writable(settings, seq)
    try:
        executed = record_execution(batch, assessment.check, actor.username, now)
    except RetentionError as error:
        raise translate(error) from None
    emptied = {
        number: EmptiedArchive(number, storage_id, uuid.uuid4().hex)
        for number, storage_id in assessment.emptied.items()
    }
    for archive in emptied.values():
        # Before the commit: from the commit on, the archive files under this key.
        container.store.create_archive(archive.fresh_storage_id)
    plan = _plan(session, row, actor, assessment, emptied, now)
    key = signing_key(settings)
    certificate = _certificate(assessment, executed, plan, now)
    decision = Decision(plan, batch_to_dict(executed), sign_certificate(certificate, key))
    entry = sign_entry(seq, prev, decision.payload(), key)
    plan_row = record_decision(
        session, batch_id=row.id, executor=actor, decision=decision, entry=entry
    )
    batches.save(row, executed)
    row.executed_at = now
    audit.record(
        session,
        actor,
        "retention.batch.decide",
        "disposition_batch",
        row.number,
        after={
            "destroy": len(plan.records),
            "skipped": len(plan.skipped),
            "certificate": plan.certificate_id,
            "ledger_entry": entry.seq,
            "ledger_sha256": entry.sha256,
        },
    )
    return plan_row


def _refuse_records_being_destroyed(session: Session, document_ids: list[int]) -> None:
    for start in range(0, len(document_ids), CHUNK):
        found = destroying_batch(session, Document.id.in_(document_ids[start : start + CHUNK]))
        if found is not None:
            raise BeingDestroyed("document", *found)


def _plan(
    session: Session,
    row: DispositionBatch,
    actor: User,
    assessment: Assessment,
    emptied: dict[str, EmptiedArchive],
    now: datetime,
) -> Plan:
    decisions = {d.record_id: d for d in assessment.check.to_destroy}
    losing_key = {archive.storage_id for archive in emptied.values()}
    records = []
    for number, target in assessment.targets.items():
        storage_id = target.row.archive_storage_id
        keys = [f"data-key:{storage_id}/{o}" for o in target.objects]
        keys += [f"archive-key:{storage_id}"] if storage_id in losing_key else []
        decided = decisions[number]
        records.append(
            PlannedRecord(
                number,
                storage_id,
                target.objects,
                tuple(keys or [f"archive-key-generation:{storage_id}"]),
                decided.rule_code,
                decided.rule_version,
                decided.eligible_on,
            )
        )
    request = None
    if row.erasure_request_id is not None:
        request = session.scalar(
            select(ErasureRequest.number).where(ErasureRequest.id == row.erasure_request_id)
        )
    return Plan(
        batch=row.number,
        certificate_id=f"CERT-{row.number}",
        executor=actor.username,
        decided_at=now,
        as_of=assessment.check.as_of,
        records=tuple(records),
        archives=tuple(emptied.values()),
        skipped=tuple(assessment.skipped),
        erasure_request=request,
    )


def _certificate(
    assessment: Assessment, executed: Batch, plan: Plan, now: datetime
) -> dict[str, object]:
    metas = {}
    for record_id, target in assessment.targets.items():
        fact = assessment.facts[record_id]
        metas[record_id] = RecordMeta(
            record_id=record_id,
            document_number=record_id,
            title=target.row.title,
            class_code=target.row.class_code,
            document_date=fact.document_date,
            sha256=target.sha256,
            filing_date=target.row.declared_on,
            events=dict(fact.events),
        )
    for skip in assessment.check.skipped:
        if skip.record_id in assessment.rows:
            fact, info = assessment.facts[skip.record_id], assessment.rows[skip.record_id]
            metas[skip.record_id] = RecordMeta(
                skip.record_id,
                skip.record_id,
                info.title,
                info.class_code,
                fact.document_date,
                "0" * 64,
            )
    keys = {record.document: list(record.keys) for record in plan.records}
    try:
        return build_certificate(
            executed, metas, keys, certificate_id=plan.certificate_id, issued_at=now
        )
    except RetentionError as error:
        raise translate(error) from None
