"""Executing a disposition batch (监销) as a sequence that survives a crash at any point.

Contract of ``run_batch(container, session, actor, number, *, dry_run=False, as_of=None,
on_progress=None)``:

1. Load the approved batch (row locked); the executor must see every record on it and
   must not have approved it (``ExecutorIsApprover``).
2. If the batch's execution was already decided and not finished (a run that died), that
   decision is completed (:func:`completion.complete`) and its report returned: nothing
   is re-checked or re-decided, and nothing else may touch the batch before (reviews,
   approvals and cancellation are refused while it is pending).
3. Otherwise, under the retention lock (no hold can land between the re-check and the
   commit, see :mod:`.locking`), :func:`decision.assess` re-checks every item on the
   execution day. ``dry_run`` reports what would be destroyed and skipped, the objects
   that would be shredded and the archive keys destroyed; only an audit entry is written.
4. For real: :func:`decision.decide` records the decision (which records, their objects
   and keys, the emptied archives and their fresh storage ids, the signed certificate, the
   signed ledger entry) and ``session`` is committed, before any key is destroyed. Then
   :func:`completion.complete` writes the ledger entry, crypto-shreds and finishes (stubs,
   destruction records, certificate, audit, search index) in a second transaction.

Whatever the moment a run dies, every record afterwards is intact (nothing was decided)
or named by a committed decision that re-running the batch, or
:func:`completion.recover_interrupted` when the worker or the server starts, completes:
shredding is idempotent and the finish runs once. ``session`` is committed by this
function (twice); the caller's own commit afterwards finds nothing left to do.
``on_progress(stage, done, total)`` reports ``decide`` (before the decision commits),
``decided`` (after), then the stages of :mod:`.completion`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from archive_app.infra.container import Container
from archive_app.models import DestructionRecord, Document, User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, require
from archive_app.services import audit
from archive_app.services.retention import batches, decision
from archive_app.services.retention.completion import (
    Progress,
    RunReport,
    complete,
    no_progress,
    report_of,
)
from archive_app.services.retention.locking import hold_retention_lock
from archive_app.services.retention.plans import COMPLETED, Decision, plan_for_batch


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
    progress = on_progress or no_progress
    now = utcnow()
    as_of = as_of or now.date()
    row, batch = batches.load(session, number, for_update=True)
    # The executor (监销) answers for every record destroyed: they must see them all.
    batches.require_sight_of_every_item(session, actor, batch, "execute destruction list")
    pending = plan_for_batch(session, row.id)
    if pending is not None and pending.state != COMPLETED:
        if dry_run:
            return report_of(container, Decision.of(pending).plan, dry_run=True)
        return complete(container, session, pending.id, progress, resumed=True)
    if not dry_run:
        hold_retention_lock(session)
    assessment = decision.assess(session, actor, batch, as_of, lock_archives=not dry_run)
    if dry_run:
        audit.record(
            session,
            actor,
            "retention.batch.dry_run",
            "disposition_batch",
            row.number,
            after={
                "would_destroy": len(assessment.targets),
                "would_skip": len(assessment.skipped),
            },
        )
        return RunReport(
            batch=row.number,
            dry_run=True,
            as_of=as_of,
            destroyed=list(assessment.targets),
            skipped=assessment.skipped,
            objects_shredded=assessment.object_count,
            archive_keys_destroyed=sorted(assessment.emptied.values()),
        )
    plan_row = decision.decide(container, session, actor, row, batch, assessment, now)
    plan_id, count = plan_row.id, len(assessment.targets)
    progress("decide", count, count)
    session.commit()
    progress("decided", count, count)
    return complete(container, session, plan_id, progress, resumed=False)


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
