"""Completing a decided destruction: ledger, shred, finish; and recovering interrupted ones.

Contract of :func:`complete` ``(container, session, plan_id, progress)``, for a plan whose
decision is committed (:mod:`.plans`), in named steps that can each be run again:

1. **ledger**: the decision's signed entry is written to every ledger folder
   (:mod:`.ledger`); if one cannot be written nothing is shredded and the plan stays
   decided.
2. **shred**: each emptied archive gets its fresh store key (idempotent), then per store
   archive the planned objects still in the store are crypto-shredded with one key
   rotation (``shred_objects``), then, when the decision emptied the archive, its key
   with everything left under it (``shred_archive``). Shredding what is already shredded
   does nothing, so a crash anywhere in here is finished by running it again.
3. **finish**, in one transaction (the plan row locked, so two completions never both
   finish): every record still pointing at the plan becomes a stub (content fields, hash
   and object ids cleared, every version's too, its notes and tags deleted, ``destroyed_at``
   set) with a
   ``destruction_records`` row; the certificate row and file; the erasure request
   completed; the records' search entries deleted as it commits and purged after; one
   ``document.destroy`` audit entry per record and ``retention.batch.execute`` for the
   batch, all by the plan's executor; the plan ``completed``. Once committed, the audit
   head is signed into a checkpoint outside the database.

``session`` may come with a transaction the caller began (a web request's); it is
committed before the shredding, which must not hold the database (on SQLite an open
transaction holds the write lock), and again by the finish. ``progress(stage, done,
total)`` reports ``ledger``, ``shred`` (records done, once per store archive),
``finish`` (just before the commit) and ``done`` (after it).

:func:`recover_interrupted` ``(container)`` completes every plan that is decided and not
completed, oldest first: call it when a process that may run destructions starts (the
worker, ``archive serve``), before anything else touches a batch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from archive_app.infra.container import Container
from archive_app.models import (
    DestructionCertificate,
    DestructionPlan,
    DestructionRecord,
    Document,
    DocumentNote,
    DocumentTag,
    DocumentVersion,
    ErasureRequest,
)
from archive_app.models.base import utcnow
from archive_app.search import updates as search_updates
from archive_app.services import audit
from archive_app.services.audit_checkpoints import checkpoint_after_commit
from archive_app.services.retention import ledger
from archive_app.services.retention.certificate_files import (
    certificates_dir,
    sha256_hex,
    write_certificate_file,
)
from archive_app.services.retention.facts import CHUNK
from archive_app.services.retention.plans import COMPLETED, Decision, Plan, PlannedRecord, pending
from storage import ArchiveNotFound, ArchiveShredded, BlobStore

Progress = Callable[[str, int, int], None]
HELD_REASONS = ("HELD", "UNSETTLED_CLAIM")  # the skips the certificate's hold check names


def no_progress(_stage: str, _done: int, _total: int) -> None:
    pass


@dataclass
class RunReport:
    batch: str
    dry_run: bool
    as_of: date
    destroyed: list[str] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    objects_shredded: int = 0
    archive_keys_destroyed: list[str] = field(default_factory=list)
    index_entries_purged: int = 0
    certificate_id: str | None = None
    certificate_path: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "dry_run": self.dry_run,
            "as_of": self.as_of.isoformat(),
            "destroyed" if not self.dry_run else "would_destroy": self.destroyed,
            "skipped": self.skipped,
            "objects_shredded" if not self.dry_run else "objects_to_shred": self.objects_shredded,
            "archive_keys_destroyed"
            if not self.dry_run
            else "archive_keys_to_destroy": self.archive_keys_destroyed,
            "index_entries_purged": self.index_entries_purged,
            "certificate": self.certificate_id,
            "certificate_path": str(self.certificate_path) if self.certificate_path else None,
        }


def report_of(container: Container, plan: Plan, *, dry_run: bool = False) -> RunReport:
    """What a decided plan destroys (has destroyed, once completed)."""
    return RunReport(
        batch=plan.batch,
        dry_run=dry_run,
        as_of=plan.as_of,
        destroyed=[record.document for record in plan.records],
        skipped=list(plan.skipped),
        objects_shredded=sum(len(record.objects) for record in plan.records),
        archive_keys_destroyed=sorted(archive.storage_id for archive in plan.archives),
        index_entries_purged=0 if dry_run else len(plan.records),
        certificate_id=None if dry_run else plan.certificate_id,
        certificate_path=None
        if dry_run
        else certificates_dir(container.settings) / f"{plan.certificate_id}.json",
    )


def complete(
    container: Container,
    session: Session,
    plan_id: int,
    progress: Progress = no_progress,
    *,
    resumed: bool,
) -> RunReport:
    """Complete the decided plan ``plan_id`` (see the module doc); ``resumed`` says that it
    is finished by another run than the one that decided it (the audit says so)."""
    row = session.get(DestructionPlan, plan_id)
    assert row is not None
    decision, seq, entry, state = Decision.of(row), row.ledger_seq, row.ledger_entry, row.state
    session.commit()
    report = report_of(container, decision.plan)
    if state == COMPLETED:
        return report
    ledger.write_entry(container.settings, seq, entry.encode("utf-8"))
    progress("ledger", 1, 1)
    shred(container.store, decision.plan, progress)
    finish(container, session, plan_id, decision, progress, resumed=resumed)
    return report


def shred(store: BlobStore, plan: Plan, progress: Progress = no_progress) -> None:
    """Crypto-shred what ``plan`` names (idempotent, see the module doc)."""
    for archive in plan.archives:
        # The archive lives on: what it files next goes under a fresh key.
        store.create_archive(archive.fresh_storage_id)
    emptied = {archive.storage_id for archive in plan.archives}
    groups: dict[str, list[PlannedRecord]] = {}
    for record in plan.records:
        groups.setdefault(record.storage_id, []).append(record)
    done = 0
    for storage_id, group in groups.items():
        if store.archive_exists(storage_id):
            # Shredded objects are skipped; a concurrent completion may have gone further.
            # Also when the archive key goes next: the store unlinks the blobs of a batch
            # in parallel, those of a whole archive one by one (ten times slower).
            present = [o for r in group for o in r.objects if store.exists(storage_id, o)]
            with contextlib.suppress(ArchiveShredded):
                store.shred_objects(storage_id, present)
        if storage_id in emptied:
            # A no-op once shredded; absent from a restored store that predates it.
            with contextlib.suppress(ArchiveNotFound):
                store.shred_archive(storage_id)
        done += len(group)
        progress("shred", done, len(plan.records))


def finish(
    container: Container,
    session: Session,
    plan_id: int,
    decision: Decision,
    progress: Progress = no_progress,
    *,
    resumed: bool,
) -> None:
    """Stubs, records, certificate, audit: the last step, in one transaction."""
    # Read afresh (the session's copy may predate a concurrent completion's commit).
    row = session.scalar(
        select(DestructionPlan)
        .where(DestructionPlan.id == plan_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    if row.state == COMPLETED:  # another process finished it meanwhile
        session.commit()
        return
    plan, now, executor = decision.plan, utcnow(), row.executor
    stubs = dict(
        session.execute(
            select(Document.number, Document.id).where(
                Document.destruction_plan_id == row.id, Document.destroyed_at.is_(None)
            )
        ).all()
    )
    records = [record for record in plan.records if record.document in stubs]
    ids = [stubs[record.document] for record in records]
    _make_stubs(session, ids, now)
    if records:
        session.execute(
            insert(DestructionRecord),
            [
                {
                    "document_id": stubs[record.document],
                    "batch_id": row.batch_id,
                    "certificate_id": plan.certificate_id,
                    "rule_code": record.rule,
                    "rule_version": record.rule_version,
                    "eligible_on": record.eligible_on,
                    "keys_destroyed": list(record.keys),
                    "destroyed_at": now,
                }
                for record in records
            ],
        )
    _issue_certificate(container, session, row, decision.certificate)
    if plan.erasure_request is not None:
        session.execute(
            update(ErasureRequest)
            .where(ErasureRequest.number == plan.erasure_request)
            .values(completed_at=now)
        )
    # Deleted as this transaction commits (a failed delete fails the commit), purged after.
    search_updates.remove(session, ids)
    audit.record_many(
        session,
        executor,
        "document.destroy",
        "document",
        (
            (
                record.document,
                {
                    "batch": plan.batch,
                    "certificate": plan.certificate_id,
                    "rule": record.rule,
                    "keys_destroyed": len(record.keys),
                },
            )
            for record in records
        ),
    )
    audit.record(
        session,
        executor,
        "retention.batch.execute",
        "disposition_batch",
        plan.batch,
        after={
            "destroyed": len(records),
            "skipped": len(plan.skipped),
            "held": [s["document"] for s in plan.skipped if s["reason"] in HELD_REASONS],
            "archive_keys_destroyed": sorted(a.storage_id for a in plan.archives),
            "certificate": plan.certificate_id,
            "certificate_sha256": sha256_hex(decision.certificate),
            "ledger_entry": row.ledger_seq,
            "resumed": resumed,
        },
    )
    row.state = COMPLETED
    row.completed_at = now
    checkpoint_after_commit(session, container.settings, container.database)
    progress("finish", len(records), len(records))
    session.commit()
    progress("done", len(records), len(records))


def _make_stubs(session: Session, ids: list[int], now: Any) -> None:
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        session.execute(
            update(Document)
            .where(Document.id.in_(chunk))
            .values(
                fields={},
                unreadable_pages=[],
                misfiling_suspected=False,
                sha256=None,
                original_object_id=None,
                text_object_id=None,
                rendition_object_id=None,
                amount=None,
                original_filename="",
                failure_reason=None,
                destroyed_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        # Notes are free text about the content, tags labels of it: neither outlives it.
        session.execute(delete(DocumentNote).where(DocumentNote.document_id.in_(chunk)))
        session.execute(delete(DocumentTag).where(DocumentTag.document_id.in_(chunk)))
        session.execute(
            update(DocumentVersion)
            .where(DocumentVersion.document_id.in_(chunk))
            .values(
                original_object_id=None,
                text_object_id=None,
                rendition_object_id=None,
                sha256=None,
                original_filename="",
            )
            .execution_options(synchronize_session=False)
        )


def _issue_certificate(
    container: Container, session: Session, row: DestructionPlan, signed: bytes
) -> None:
    exists = session.scalar(
        select(DestructionCertificate.id).where(DestructionCertificate.batch_id == row.batch_id)
    )
    if exists is not None:
        return
    path = write_certificate_file(container.settings, row.certificate_id, signed)
    session.add(
        DestructionCertificate(
            certificate_id=row.certificate_id,
            batch_id=row.batch_id,
            file_name=path.name,
            signed=signed.decode("utf-8"),
            sha256=sha256_hex(signed),
            issued_at=row.decided_at,
        )
    )


def recover_interrupted(container: Container, progress: Progress = no_progress) -> list[RunReport]:
    """Complete every decided, uncompleted destruction (see the module doc)."""
    with container.database.session() as session:
        plan_ids = list(pending(session))
    reports = []
    for plan_id in plan_ids:
        with container.database.session() as session:
            reports.append(complete(container, session, plan_id, progress, resumed=True))
    return reports
