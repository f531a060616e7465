"""Executing a disposition batch (监销): re-check, crypto-shred, purge, stub, certify.

Contract of ``run_batch(container, actor_id, number, dry_run=...)``:

1. Load the approved batch (row locked) and re-decide every item with fresh facts and the
   current rules on the execution day (the engine's ``execute_check``: holds, unsettled
   claims, eligibility, rule version, reviewed 'extend'). Items no longer eligible are
   skipped and reported. The executor must not be an approver (``ExecutorIsApprover``).
2. ``dry_run``: report what would be destroyed and skipped, which objects would be shredded
   and which archive keys destroyed; only an audit entry is written.
3. Otherwise, per archive: shred every object of the cleared records (original, OCR text,
   rendition and every version's objects) with ONE ``store.shred_objects`` call (one archive
   key rotation); when no live record of the archive remains, ``store.shred_archive``
   destroys the archive key too, and the customer archive gets a new storage id with a new
   key, so that it can take documents again (the old id stays shredded). Then each row
   becomes a stub (number, title, class, dates stay; fields, suggestions, amount, file
   name, hash and object ids cleared; ``destroyed_at`` set) with a ``destruction_records``
   row and an audit entry, the execution is recorded in the batch and the signed
   certificate issued (file in the instance folder and row in the database). The records'
   search index entries are deleted as the transaction commits and purged after it
   (:mod:`archive_app.search.updates`); once it has committed, the audit head is signed
   into a checkpoint outside the database
   (:mod:`archive_app.services.audit_checkpoints`), so the destruction's audit entries
   cannot be cut from the trail unseen.

Everything from the re-check to the stubs runs in one database transaction. The store is
changed before that transaction commits: if the commit fails, the rows still point at
shredded objects, and running the batch again (it is still approved) finishes the job,
because shredding is idempotent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from archive_app.infra.container import Container
from archive_app.models import (
    Base,
    CustomerArchive,
    DestructionCertificate,
    DestructionRecord,
    Document,
    ErasureRequest,
    User,
)
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, require
from archive_app.search import updates as search_updates
from archive_app.services import audit
from archive_app.services.audit_checkpoints import checkpoint_after_commit
from archive_app.services.retention import batches
from archive_app.services.retention.certificate_files import (
    sha256_hex,
    signing_key,
    write_certificate_file,
)
from archive_app.services.retention.errors import translate
from archive_app.services.retention.facts import CHUNK, RecordRow, load_facts
from archive_app.services.retention.locking import hold_retention_lock
from archive_app.services.retention.schedule import current_rule_set, rules_by_class
from retention import (
    ExecutionCheck,
    RecordMeta,
    RetentionError,
    build_certificate,
    execute_check,
    record_execution,
    sign_certificate,
)

Progress = Callable[[str, int, int], None]
OBJECT_COLUMNS = ("original_object_id", "text_object_id", "rendition_object_id")
VERSIONS_TABLE = "document_versions"


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


def _version_objects(session: Session, document_ids: Sequence[int]) -> dict[int, list[str]]:
    table = Base.metadata.tables.get(VERSIONS_TABLE)
    found: dict[int, list[str]] = {}
    if table is None:
        return found
    columns = [table.c[name] for name in OBJECT_COLUMNS if name in table.c]
    for start in range(0, len(document_ids), CHUNK):
        chunk = list(document_ids[start : start + CHUNK])
        for row in session.execute(
            select(table.c.document_id, *columns).where(table.c.document_id.in_(chunk))
        ):
            found.setdefault(row[0], []).extend(value for value in row[1:] if value)
    return found


def _clear_versions(session: Session, document_ids: Sequence[int]) -> None:
    table = Base.metadata.tables.get(VERSIONS_TABLE)
    if table is None:
        return
    values: dict[str, Any] = {name: None for name in (*OBJECT_COLUMNS, "sha256") if name in table.c}
    if "original_filename" in table.c:
        values["original_filename"] = ""
    for start in range(0, len(document_ids), CHUNK):
        chunk = list(document_ids[start : start + CHUNK])
        session.execute(update(table).where(table.c.document_id.in_(chunk)).values(**values))


@dataclass(frozen=True)
class _Target:
    row: RecordRow
    sha256: str
    objects: tuple[str, ...]


def _targets(
    session: Session, check: ExecutionCheck, rows: dict[str, RecordRow]
) -> dict[str, _Target]:
    ids = [rows[number].id for number in check.destroy_ids]
    versions = _version_objects(session, ids)
    documents: dict[int, tuple[str | None, ...]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for row in session.execute(
            select(
                Document.id,
                Document.sha256,
                Document.original_object_id,
                Document.text_object_id,
                Document.rendition_object_id,
            ).where(Document.id.in_(chunk))
        ):
            documents[row[0]] = tuple(row[1:])
    targets = {}
    for number in check.destroy_ids:
        row = rows[number]
        sha, *objects = documents[row.id]
        every = list(dict.fromkeys([o for o in objects if o] + versions.get(row.id, [])))
        targets[number] = _Target(row, sha or "", tuple(every))
    return targets


def _archives_emptied(session: Session, targets: dict[str, _Target]) -> dict[int, str]:
    """Archives with no live record left once the targets are destroyed."""
    by_archive: dict[int, int] = {}
    storage: dict[int, str] = {}
    for target in targets.values():
        by_archive[target.row.archive_id] = by_archive.get(target.row.archive_id, 0) + 1
        storage[target.row.archive_id] = target.row.archive_storage_id
    emptied = {}
    for archive_id, count in by_archive.items():
        live = session.scalar(
            select(func.count(Document.id)).where(
                Document.archive_id == archive_id, Document.destroyed_at.is_(None)
            )
        )
        if live == count:
            emptied[archive_id] = storage[archive_id]
    return emptied


def run_batch(
    container: Container,
    session: Session,
    actor: User,
    number: str,
    *,
    dry_run: bool = False,
    as_of: date | None = None,
    on_progress: Progress | None = None,
) -> RunReport:
    """Execute (or dry-run) an approved batch; see the module docstring."""
    require(actor, Capability.MANAGE_RETENTION)
    progress = on_progress or (lambda _stage, _done, _total: None)
    as_of = as_of or utcnow().date()
    row, batch = batches.load(session, number, for_update=True)
    # The executor (监销) answers for every record destroyed: they must see them all.
    batches.require_sight_of_every_item(session, actor, batch, "execute destruction list")
    if not dry_run:
        # No hold may be placed between the re-check below and the commit (see locking).
        hold_retention_lock(session)
    numbers = [item.record_id for item in batch.items]
    facts, rows = load_facts(session, document_numbers=numbers)
    rule_set = current_rule_set(session)
    try:
        check = execute_check(
            batch, facts, rules_by_class(session, rule_set), as_of, executor=actor.username
        )
    except RetentionError as error:
        raise translate(error) from None
    targets = _targets(session, check, rows)
    emptied = _archives_emptied(session, targets)
    report = RunReport(
        batch=row.number,
        dry_run=dry_run,
        as_of=as_of,
        destroyed=list(check.destroy_ids),
        skipped=[
            {
                "document": s.record_id,
                "reason": s.reason.value,
                "detail": s.detail,
                "holds": sorted(s.hold_ids),
            }
            for s in check.skipped
        ],
        objects_shredded=sum(len(t.objects) for t in targets.values()),
        archive_keys_destroyed=sorted(emptied.values()),
    )
    if dry_run:
        audit.record(
            session,
            actor,
            "retention.batch.dry_run",
            "disposition_batch",
            row.number,
            after={"would_destroy": len(report.destroyed), "would_skip": len(report.skipped)},
        )
        return report

    # 1. The keys each record loses, known before anything is shredded.
    by_storage: dict[str, list[_Target]] = {}
    for target in targets.values():
        by_storage.setdefault(target.row.archive_storage_id, []).append(target)
    emptied_storage = set(emptied.values())
    keys: dict[str, list[str]] = {}
    for storage_id, group in by_storage.items():
        for target in group:
            keys[target.row.number] = [f"data-key:{storage_id}/{o}" for o in target.objects] + (
                [f"archive-key:{storage_id}"] if storage_id in emptied_storage else []
            ) or [f"archive-key-generation:{storage_id}"]

    # 2. Record the execution, build and sign the certificate (before shredding, so that
    #    a refusal here leaves everything intact).
    now = utcnow()
    try:
        executed = record_execution(batch, check, actor.username, now)
    except RetentionError as error:
        raise translate(error) from None
    certificate_id = f"CERT-{row.number}"
    metas = {}
    for record_id, target in targets.items():
        fact = facts[record_id]
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
    for skip in check.skipped:
        if skip.record_id in rows:
            fact, info = facts[skip.record_id], rows[skip.record_id]
            metas[skip.record_id] = RecordMeta(
                skip.record_id,
                skip.record_id,
                info.title,
                info.class_code,
                fact.document_date,
                "0" * 64,
            )
    try:
        certificate = build_certificate(
            executed, metas, keys, certificate_id=certificate_id, issued_at=now
        )
    except RetentionError as error:
        raise translate(error) from None
    signed = sign_certificate(certificate, signing_key(container.settings))

    # 3. Crypto-shred, one key rotation per archive; destroy emptied archives' keys.
    store = container.store
    done = 0
    for storage_id, group in by_storage.items():
        object_ids = [o for t in group for o in t.objects]
        if store.archive_exists(storage_id) and object_ids:
            store.shred_objects(storage_id, object_ids)
        if storage_id in emptied_storage:
            store.shred_archive(storage_id)
        done += len(group)
        progress("shred", done, len(targets))
    ids = [t.row.id for t in targets.values()]
    # Deleted as this transaction commits (a failed delete fails the commit), purged after.
    search_updates.remove(session, ids)
    report.index_entries_purged = len(ids)
    progress("index", len(ids), len(ids))

    # 4. Stubs, destruction records, audit, all in this transaction.
    decisions = {d.record_id: d for d in check.to_destroy}
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
    _clear_versions(session, ids)
    for archive_id in emptied:
        # The old key is gone for good (a shredded id is refused forever); the archive
        # itself lives on and files its next document under a fresh key.
        fresh = uuid.uuid4().hex
        store.create_archive(fresh)
        session.execute(
            update(CustomerArchive)
            .where(CustomerArchive.id == archive_id)
            .values(storage_id=fresh)
            .execution_options(synchronize_session=False)
        )
    if targets:
        session.execute(
            insert(DestructionRecord),
            [
                {
                    "document_id": target.row.id,
                    "batch_id": row.id,
                    "certificate_id": certificate_id,
                    "rule_code": decisions[record_id].rule_code,
                    "rule_version": decisions[record_id].rule_version,
                    "eligible_on": decisions[record_id].eligible_on,
                    "keys_destroyed": keys[record_id],
                    "destroyed_at": now,
                }
                for record_id, target in targets.items()
            ],
        )
    batches.save(row, executed)
    row.executed_at = now
    path = write_certificate_file(container.settings, certificate_id, signed)
    session.add(
        DestructionCertificate(
            certificate_id=certificate_id,
            batch_id=row.id,
            file_name=path.name,
            signed=signed.decode("utf-8"),
            sha256=sha256_hex(signed),
            issued_at=now,
        )
    )
    if row.erasure_request_id is not None:
        request = session.get(ErasureRequest, row.erasure_request_id)
        if request is not None:
            request.completed_at = now
    session.flush()
    audit.record_many(
        session,
        actor,
        "document.destroy",
        "document",
        (
            (
                record_id,
                {
                    "batch": row.number,
                    "certificate": certificate_id,
                    "rule": decisions[record_id].rule_code,
                    "keys_destroyed": len(keys[record_id]),
                },
            )
            for record_id in targets
        ),
    )
    progress("audit", len(targets), len(targets))
    audit.record(
        session,
        actor,
        "retention.batch.execute",
        "disposition_batch",
        row.number,
        after={
            "destroyed": len(targets),
            "skipped": len(check.skipped),
            "held": list(check.held_record_ids),
            "archive_keys_destroyed": sorted(emptied.values()),
            "certificate": certificate_id,
            "certificate_sha256": sha256_hex(signed),
        },
    )
    report.certificate_id = certificate_id
    report.certificate_path = path
    checkpoint_after_commit(session, container.settings, container.database)
    return report


def stub_info(session: Session, document: Document) -> dict[str, Any] | None:
    """What the stub of a destroyed record shows about its destruction."""
    if not document.is_destroyed:
        return None
    record = session.get(DestructionRecord, document.id)
    if record is None:
        return {
            "destroyed_at": document.destroyed_at.isoformat() if document.destroyed_at else None
        }
    return {
        "destroyed_at": record.destroyed_at.isoformat(),
        "batch": record.batch.number,
        "certificate": record.certificate_id,
        "rule": record.rule_code,
        "rule_version": record.rule_version,
        "eligible_on": record.eligible_on.isoformat(),
    }
