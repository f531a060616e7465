"""Recovery: after a process died, get every document moving again and leave nothing
behind. Every worker runs it when it starts and every ``RECOVERY_INTERVAL`` while it runs.

Contract of :func:`recover` (safe to run in several processes at once; each step changes
a row only if it is still in the state that was read):

1. workers that are no longer alive but were never marked stopped are marked ``lost``;
   for every ``lost`` worker, the documents processed around its last heartbeat are
   written to the search index again (through the one path into it,
   :func:`archive_app.search.updates.reindex`): a worker killed between the commit of a
   document's results and the index write would otherwise leave it ready but unfindable.
   The worker is then marked ``recovered``;
2. every processing document whose claim is dead is queued again and sent to the task
   queue (or failed, after repeated interruptions: :func:`archive_app.services.claims.release_dead`);
3. queued documents whose task message is lost are sent again. A message is lost when its
   worker died holding it (the embedded broker never gives such a message back) or when
   the process that queued the document died before sending it. That cannot be seen per
   message, so: when the task queue holds no message at all, every document queued for
   longer than ``queued_grace`` is sent again. A queue that still holds messages is left
   to drain first, so a long backlog is never doubled; a message sent twice is harmless
   (processing claims the document before working, and ignores one it cannot claim);
4. objects a dead process left in flight are deleted (:func:`archive_app.infra.pending.reclaim`);
5. worker rows stopped more than ``KEEP_STOPPED_WORKERS`` ago are pruned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from archive_app.infra import pending, workers
from archive_app.infra.container import Container
from archive_app.models import Document, DocumentStatus, Worker
from archive_app.models.base import utcnow
from archive_app.search import updates as search_updates
from archive_app.services import claims

RECOVERY_INTERVAL = timedelta(seconds=15)
# A queued document younger than this may just be on its way to the queue. (One waiting
# out a retry delay is sent again sooner: harmless, it is processed once.)
QUEUED_GRACE = timedelta(seconds=30)
KEEP_STOPPED_WORKERS = timedelta(days=7)


@dataclass
class RecoveryReport:
    lost_workers: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)  # processing with a dead claim
    failed: list[str] = field(default_factory=list)  # interrupted too often
    resent: list[str] = field(default_factory=list)  # queued, message lost
    reindexed: int = 0  # documents processed just before a worker was lost
    reclaimed_objects: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (
                self.lost_workers,
                self.requeued,
                self.failed,
                self.resent,
                self.reindexed,
                self.reclaimed_objects,
            )
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "lost_workers": self.lost_workers,
            "requeued": self.requeued,
            "failed": self.failed,
            "resent": self.resent,
            "reindexed": self.reindexed,
            "reclaimed_objects": self.reclaimed_objects,
        }


def recover(container: Container, *, queued_grace: timedelta = QUEUED_GRACE) -> RecoveryReport:
    """See the module docstring."""
    report = RecoveryReport()
    _mark_lost_workers(container, report)
    _reindex_after_lost_workers(container, report)
    _requeue_dead_claims(container, report)
    if _broker_queue_length(container) == 0:
        _resend_lost_messages(container, queued_grace, report)
    report.reclaimed_objects = pending.reclaim(container.database, container.store)
    _prune_workers(container)
    return report


def _broker_queue_length(container: Container) -> int:
    from archive_app.tasks import queue_length

    return queue_length(container.celery, container.settings.queue_name)


def _mark_lost_workers(container: Container, report: RecoveryReport) -> None:
    with container.database.session() as session:
        running = session.scalars(select(Worker).where(Worker.stopped_at.is_(None))).all()
        for worker in running:
            if not workers.is_alive(worker):
                worker.stopped_at = utcnow()
                worker.stop_reason = "lost"
                report.lost_workers.append(f"{worker.hostname}:{worker.pid}")


def _reindex_after_lost_workers(container: Container, report: RecoveryReport) -> None:
    # A worker dies within a heartbeat of its last one; the index write it may have lost
    # follows its last commit by milliseconds. The window is generous: rewriting an entry
    # that was fine costs a little time, missing one leaves a record unfindable.
    margin = workers.DEAD_AFTER
    with container.database.session() as session:
        lost = session.scalars(
            select(Worker).where(Worker.stop_reason == "lost").with_for_update()
        ).all()
        windows = [(w.heartbeat_at - margin, w.heartbeat_at + margin) for w in lost]
        processed = (
            session.scalars(
                select(Document.id).where(
                    Document.status == DocumentStatus.READY,
                    or_(*(Document.processed_at.between(start, end) for start, end in windows)),
                )
            ).all()
            if windows
            else []
        )
        search_updates.reindex(session, documents=processed)
        for worker in lost:
            worker.stop_reason = "recovered"
    report.reindexed = len(processed)


def _requeue_dead_claims(container: Container, report: RecoveryReport) -> None:
    with container.database.session() as session:
        candidates = session.scalars(
            select(Document.id).where(Document.status == DocumentStatus.PROCESSING)
        ).all()
    for document_id in candidates:
        with container.database.session() as session:
            document = session.get(Document, document_id, with_for_update=True)
            if document is None or not claims.is_dead(document):
                continue
            queued = claims.release_dead(session, document)
            (report.requeued if queued else report.failed).append(document.number)
        if queued:
            container.enqueue_processing(document_id)


def _resend_lost_messages(container: Container, grace: timedelta, report: RecoveryReport) -> None:
    cutoff = utcnow() - grace
    with container.database.session() as session:
        rows = session.execute(
            select(Document.id, Document.number).where(
                Document.status == DocumentStatus.QUEUED,
                Document.updated_at <= cutoff,
                Document.destroyed_at.is_(None),
            )
        ).all()
        # Sending again counts as a change of the row: the next run waits its grace again.
        session.execute(
            update(Document)
            .where(
                Document.id.in_([row_id for row_id, _ in rows]),
                Document.status == DocumentStatus.QUEUED,
            )
            .values(updated_at=utcnow())
        )
    for document_id, number in rows:
        container.enqueue_processing(document_id)
        report.resent.append(number)


def _prune_workers(container: Container) -> None:
    with container.database.session() as session:
        session.execute(delete(Worker).where(Worker.stopped_at < utcnow() - KEEP_STOPPED_WORKERS))
