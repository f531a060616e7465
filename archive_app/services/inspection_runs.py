"""The periodic inspection as a recorded run: history, schedule, and the notification of a
failed run. Wraps :func:`archive_app.services.inspection.inspect`; every front end (``archive
verify``, the worker's scheduled task, the inspection page) goes through here.

Contract:

- :func:`run_inspection` is the one use case. ``actor`` is the user running it by hand
  (compliance or admin; recorded in the run and the audit entry) or None for the
  worker's scheduled run, which names its ``worker`` registration. It inserts a
  ``running`` row first, runs the inspection with ``progress`` passed through, then, in
  the transaction that writes the inspection's audit entry, finishes the row as
  ``passed`` or ``failed`` and, when failed, adds an ``inspection`` notification for
  compliance and admins (:mod:`archive_app.services.notifications`). An inspection that
  raises is finished as ``error`` with the message, notified the same way, and the error
  is raised again; one stopped on purpose (Ctrl+C, a worker's shutdown) is finished as
  ``interrupted`` without a notification.
- One run at a time: when a live run exists, :class:`InspectionRunning` is raised; a
  ``running`` row whose process is gone is closed as ``interrupted`` first (its worker is
  not alive, or its command's process ended on this host, or, from another host, its
  heartbeat is older than ``STALE_AFTER``). The database's partial unique index settles
  two starts at the same moment.
- :func:`run_scheduled` is idempotent and quiet: it returns None when a run is in progress
  or a scheduled run started less than half an interval ago (two workers started with
  ``--beat``, or a beat catching up after a restart), and otherwise runs one.
- :func:`history` (readers: compliance, auditors, admins) returns the newest runs; the
  findings of an archive above the reader's clearance are withheld and counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DuplicateRow
from sqlalchemy.orm import Session

from archive_app.errors import InspectionRunning
from archive_app.infra import processes, workers
from archive_app.infra.container import Container
from archive_app.models import (
    CustomerArchive,
    InspectionRun,
    InspectionState,
    InspectionTrigger,
    RetentionNotification,
    User,
    Worker,
)
from archive_app.models.base import utcnow
from archive_app.models.inspection import FINDINGS_KEPT
from archive_app.permissions import Capability, may_see_level, require
from archive_app.services import inspection
from archive_app.services.notifications import INSPECTION

Progress = Callable[[int, int], None]

HEARTBEAT_EVERY = 15.0  # seconds between heartbeats of a running inspection
STALE_AFTER = timedelta(minutes=15)
HISTORY = 10  # runs shown as the trend


@dataclass(frozen=True)
class RunView:
    """One run as the page and the CLI show it (plain values, no session needed)."""

    id: int
    trigger: str
    state: str
    actor: str | None
    started_at: datetime
    finished_at: datetime | None
    documents: int
    objects_checked: int
    findings_count: int
    counts: dict[str, int]
    findings: list[dict[str, Any]] = field(default_factory=list)
    hidden: int = 0  # findings withheld from this reader (clearance)
    error: str | None = None

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None


# ---------------------------------------------------------------- running


def run_inspection(
    container: Container,
    actor: User | None,
    *,
    worker: workers.Registration | None = None,
    progress: Progress | None = None,
) -> tuple[RunView, inspection.InspectionReport]:
    """Run and record one inspection; see the module docstring."""
    if actor is not None:
        require(actor, Capability.INSPECT)
    run_id = _start(container, actor, worker)
    beat = _heartbeat(container, run_id, progress)
    try:
        with container.database.session() as session:
            report = inspection.inspect(container, session, actor, progress=beat)
            run = _finish(session, run_id, report)
            return _view(run), report
    except BaseException as error:
        _fail(container, run_id, error)
        raise


def run_scheduled(
    container: Container, worker: workers.Registration, interval: timedelta
) -> RunView | None:
    """The worker's scheduled run; None when there is nothing to do."""
    with container.database.session() as session:
        last = session.scalar(
            select(InspectionRun.started_at)
            .where(InspectionRun.trigger == InspectionTrigger.SCHEDULED)
            .order_by(InspectionRun.id.desc())
            .limit(1)
        )
    if last is not None and utcnow() - last < interval / 2:
        return None
    try:
        run, _report = run_inspection(container, None, worker=worker)
    except InspectionRunning:
        return None
    return run


def _start(container: Container, actor: User | None, worker: workers.Registration | None) -> int:
    me = processes.current()
    try:
        with container.database.session() as session:
            _close_dead_runs(session)
            running = session.scalar(
                select(InspectionRun).where(InspectionRun.state == InspectionState.RUNNING)
            )
            if running is not None:
                raise InspectionRunning(running.id, f"{running.started_at:%Y-%m-%d %H:%M} UTC")
            run = InspectionRun(
                trigger=InspectionTrigger.MANUAL if actor else InspectionTrigger.SCHEDULED,
                state=InspectionState.RUNNING,
                actor_id=actor.id if actor else None,
                worker_id=worker.worker_id if worker else None,
                hostname=me.hostname,
                pid=me.pid,
                documents=0,
                objects_checked=0,
                findings_count=0,
                counts={},
                findings=[],
            )
            session.add(run)
            session.flush()
            return run.id
    except DuplicateRow:
        # Another process inserted its running row between our look and our insert.
        raise InspectionRunning(None, "just now") from None


def _close_dead_runs(session: Session) -> None:
    for run in session.scalars(
        select(InspectionRun).where(InspectionRun.state == InspectionState.RUNNING)
    ):
        if not _alive(session, run):
            run.state = InspectionState.INTERRUPTED
            run.finished_at = utcnow()
            run.error = "the process running this inspection ended before it finished"
    session.flush()


def _alive(session: Session, run: InspectionRun) -> bool:
    if run.worker_id is not None:
        worker = session.get(Worker, run.worker_id)
        return worker is not None and workers.is_alive(worker)
    if processes.is_gone(run.hostname, run.pid):
        return False
    # Another host's process cannot be looked at: its heartbeat speaks for it.
    return run.hostname == processes.current().hostname or (
        run.heartbeat_at >= utcnow() - STALE_AFTER
    )


def _heartbeat(container: Container, run_id: int, progress: Progress | None) -> Progress:
    last = time.monotonic()

    def on_progress(done: int, total: int) -> None:
        nonlocal last
        if progress is not None:
            progress(done, total)
        if time.monotonic() - last >= HEARTBEAT_EVERY:
            last = time.monotonic()
            with container.database.session() as session:
                run = session.get(InspectionRun, run_id)
                if run is not None:
                    run.heartbeat_at = utcnow()
                    run.documents = done

    return on_progress


def _finish(session: Session, run_id: int, report: inspection.InspectionReport) -> InspectionRun:
    run = session.get(InspectionRun, run_id)
    assert run is not None
    run.state = InspectionState.PASSED if report.clean else InspectionState.FAILED
    run.finished_at = report.finished_at or utcnow()
    run.heartbeat_at = run.finished_at
    run.documents = report.documents
    run.objects_checked = report.objects_checked
    run.findings_count = len(report.findings)
    run.counts = {name: n for name, n in report.problem_counts().items() if n}
    run.findings = [finding.as_dict() for finding in report.findings[:FINDINGS_KEPT]]
    if not report.clean:
        _notify(session, run, f"inspection {run.id} found {run.findings_count} problem(s)")
    session.flush()
    return run


def _fail(container: Container, run_id: int, error: BaseException) -> None:
    message = str(error) or type(error).__name__
    with container.database.session() as session:
        run = session.get(InspectionRun, run_id)
        if run is None or run.state != InspectionState.RUNNING:
            return
        run.finished_at = utcnow()
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            # Stopped on purpose (Ctrl+C, a worker's shutdown): nothing to tell anyone.
            run.state = InspectionState.INTERRUPTED
            run.error = "stopped before it finished"
            return
        run.state = InspectionState.ERROR
        run.error = message[:2000]
        _notify(session, run, f"inspection {run.id} could not run: {message[:200]}")


def _notify(session: Session, run: InspectionRun, message: str) -> None:
    session.add(
        RetentionNotification(
            kind=INSPECTION,
            as_of=utcnow().date(),
            eligible_count=0,
            counts=dict(run.counts),
            message=message,
            inspection_run_id=run.id,
            # The reminders name the same subject: no second note for this run today.
            subject=f"run:{run.id}",
        )
    )


# ---------------------------------------------------------------- reading


def require_reader(actor: User) -> None:
    require(actor, Capability.READ_INSPECTIONS)


def history(session: Session, actor: User, *, limit: int = HISTORY) -> list[RunView]:
    """The newest runs first, the findings of the newest included (clearance applied)."""
    require_reader(actor)
    runs = list(
        session.scalars(select(InspectionRun).order_by(InspectionRun.id.desc()).limit(limit))
    )
    if not runs:
        return []
    latest = _view(runs[0])
    shown, hidden = _visible_findings(session, actor, latest.findings)
    latest = RunView(**{**latest.__dict__, "findings": shown, "hidden": hidden})
    return [latest, *(_view(run, findings=False) for run in runs[1:])]


def _visible_findings(
    session: Session, actor: User, findings: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], int]:
    numbers = {f["archive"] for f in findings if f.get("archive")}
    levels = dict(
        session.execute(
            select(CustomerArchive.number, CustomerArchive.level).where(
                CustomerArchive.number.in_(numbers)
            )
        ).all()
    )
    shown = [
        f
        for f in findings
        if not f.get("archive") or may_see_level(actor, levels.get(f["archive"], "secret"))
    ]
    return shown, len(findings) - len(shown)


def _view(run: InspectionRun, *, findings: bool = True) -> RunView:
    return RunView(
        id=run.id,
        trigger=run.trigger.value,
        state=run.state.value,
        actor=run.actor.username if run.actor else None,
        started_at=run.started_at,
        finished_at=run.finished_at,
        documents=run.documents,
        objects_checked=run.objects_checked,
        findings_count=run.findings_count,
        counts=dict(run.counts or {}),
        findings=list(run.findings or []) if findings else [],
        error=run.error,
    )
