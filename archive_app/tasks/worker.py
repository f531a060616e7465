"""The worker: registers the tasks on a Celery app bound to one container and runs it."""

from __future__ import annotations

from celery import Celery

from archive_app.infra import scratch
from archive_app.infra.container import Container
from archive_app.services.processing import TransientProcessingError, process_document
from archive_app.tasks import AUDIT_CHECKPOINT, PROCESS_DOCUMENT, RETENTION_APPRAISAL

RETRY_DELAYS = (5, 30, 120)


def register_tasks(app: Celery, container: Container) -> None:
    @app.task(name=PROCESS_DOCUMENT, bind=True, max_retries=len(RETRY_DELAYS))
    def _process_document(task, document_id: int) -> None:  # type: ignore[no-untyped-def]
        try:
            process_document(
                container, document_id, final_attempt=task.request.retries >= len(RETRY_DELAYS)
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


def run_worker(
    container: Container, *, concurrency: int = 1, loglevel: str = "INFO", beat: bool = False
) -> None:
    # A worker killed earlier (SIGKILL, power loss) left its decrypted scratch files behind.
    scratch.sweep(container.settings.home)
    app = container.celery
    register_tasks(app, container)
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
