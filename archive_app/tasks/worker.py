"""The worker: registers the tasks on a Celery app bound to one container and runs it.

The process registers itself in the worker registry (:mod:`archive_app.infra.workers`) for as
long as it runs, so the documents it claims name a live worker; it runs recovery
(:mod:`archive_app.services.recovery`) before it takes the first message and again every
``RECOVERY_INTERVAL`` from its heartbeat, and at start completes any destruction whose
decision was committed by a process that died
(:func:`archive_app.services.retention.completion.recover_interrupted`). A worker started by ``archive serve`` is told its
parent's pid and stops (warm shutdown: running tasks finish) when that parent is gone, so
a killed server never leaves a worker behind to run beside the next one.

The scheduled inspection runs on a thread of its own beside the task slots (documents keep
being processed meanwhile); a worker that stops leaves its run to be closed as
interrupted by the next one (:mod:`archive_app.services.inspection_runs`).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import timedelta

from celery import Celery

from archive_app.infra import scratch, workers
from archive_app.infra.container import Container
from archive_app.models import WorkerKind
from archive_app.services import recovery
from archive_app.services.processing import TransientProcessingError, process_document
from archive_app.services.retention import completion
from archive_app.tasks import (
    AUDIT_CHECKPOINT,
    INSPECTION,
    PROCESS_DOCUMENT,
    REMINDERS,
    RETENTION_APPRAISAL,
)

RETRY_DELAYS = (5, 30, 120)
log = logging.getLogger(__name__)


def register_tasks(app: Celery, container: Container, worker: workers.Registration) -> None:
    @app.task(name=PROCESS_DOCUMENT, bind=True, max_retries=len(RETRY_DELAYS))
    def _process_document(task, document_id: int) -> None:
        try:
            process_document(
                container,
                document_id,
                worker=worker,
                final_attempt=task.request.retries >= len(RETRY_DELAYS),
            )
        except TransientProcessingError as error:
            delay = RETRY_DELAYS[min(task.request.retries, len(RETRY_DELAYS) - 1)]
            raise task.retry(exc=error, countdown=delay) from error

    @app.task(name=RETENTION_APPRAISAL)
    def _retention_appraisal() -> None:
        # Idempotent (one notification per day); destroys nothing.
        from archive_app.services.retention.appraisal import run_appraisal

        run_appraisal(container)

    @app.task(name=AUDIT_CHECKPOINT)
    def _audit_checkpoint() -> None:
        # Idempotent: an unchanged head writes nothing new.
        from archive_app.services.audit_checkpoints import write_checkpoint

        write_checkpoint(container.settings, container.database)

    @app.task(name=REMINDERS)
    def _reminders() -> None:
        # Idempotent (one note per subject per day; each note mailed once).
        from archive_app.services.reminders import run_reminders

        run_reminders(container)

    inspecting: list[threading.Thread] = []

    @app.task(name=INSPECTION)
    def _inspection() -> None:
        # Idempotent and quiet: nothing when an inspection runs or one ran within half an
        # interval (a second beat); a failed run notifies compliance and admins itself.
        # It runs on a thread of its own: a full inspection may decrypt the store for
        # hours, and the worker's task slots are for documents.
        interval = container.settings.inspection_interval_seconds
        if interval is None or any(thread.is_alive() for thread in inspecting):
            return
        thread = threading.Thread(
            target=_scheduled_inspection,
            args=(container, worker, timedelta(seconds=interval)),
            name="inspection",
            daemon=True,
        )
        inspecting[:] = [thread]
        thread.start()


def _scheduled_inspection(
    container: Container, worker: workers.Registration, interval: timedelta
) -> None:
    from archive_app.services.inspection_runs import run_scheduled

    try:
        run = run_scheduled(container, worker, interval)
    except Exception:
        # Recorded as an error in the history and notified; the worker carries on.
        log.exception("the scheduled inspection failed")
        return
    if run is not None:
        log.info("inspection %s: %s, %s finding(s)", run.id, run.state, run.findings_count)


def run_worker(
    container: Container,
    *,
    concurrency: int = 1,
    loglevel: str = "INFO",
    beat: bool = False,
    parent: int | None = None,
) -> None:
    # A worker killed earlier (SIGKILL, power loss) left its decrypted scratch files behind.
    scratch.sweep(container.settings.home)
    app = container.celery
    kind = WorkerKind.EMBEDDED if parent is not None else WorkerKind.WORKER
    # Until Celery installs its own handler (warm shutdown), SIGTERM would end the process
    # on the spot, before the registration below is marked stopped.
    signal.signal(signal.SIGTERM, _exit_now)
    with workers.registered(
        container.database, kind, parent_pid=parent, on_beat=_periodic(container, parent)
    ) as registration:
        register_tasks(app, container, registration)
        _log_recovery(recovery.recover(container, queued_grace=timedelta(0)))
        _complete_interrupted_destructions(container)
        app.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={concurrency}",
                f"--loglevel={loglevel}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                container.settings.queue_name,
                *(["--beat"] if beat else []),
            ]
        )


def _complete_interrupted_destructions(container: Container) -> None:
    # A destruction whose decision committed before its process died has records named for
    # destruction and not yet destroyed; nothing else may touch that batch until it is
    # completed, so it is completed here, before the first task (see completion.py).
    for report in completion.recover_interrupted(container):
        log.warning("completed the interrupted destruction of batch %s", report.batch)


def _exit_now(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _periodic(container: Container, parent: int | None):
    last_recovery = time.monotonic()
    stopping = False

    def on_beat(_registration: workers.Registration) -> None:
        nonlocal last_recovery, stopping
        if parent is not None and os.getppid() != parent and not stopping:
            stopping = True
            log.warning("the server that started this worker is gone: stopping")
            os.kill(os.getpid(), signal.SIGTERM)  # Celery's warm shutdown
            return
        if time.monotonic() - last_recovery >= recovery.RECOVERY_INTERVAL.total_seconds():
            last_recovery = time.monotonic()
            _log_recovery(recovery.recover(container))

    return on_beat


def _log_recovery(report: recovery.RecoveryReport) -> None:
    if report.changed:
        log.warning("recovery: %s", report.as_dict())
