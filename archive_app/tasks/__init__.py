"""Background jobs with Celery.

Embedded default: the broker is a SQLite file in the instance folder (Kombu's SQLAlchemy
transport), so no server is needed and ``archive serve`` runs one worker beside the web
server. Multi-machine: ``ARCHIVE_BROKER_URL=redis://...`` and ``archive worker`` anywhere.

Tasks are thin: they take ids, call one domain function, and return quietly when their
row is gone. Messages are acknowledged after the task ran (``acks_late``), so a message
whose worker died is delivered again where the broker can tell (Redis, after the
visibility timeout). The embedded broker cannot: it keeps a delivered message invisible
for good. Either way the document itself records who works on it (a claim with a
heartbeat), and recovery at every worker start queues it again when that worker is gone
(:mod:`archive_app.services.recovery`). ``task_reject_on_worker_lost`` covers a lost pool child
should the pool ever be prefork.

The worker uses a thread pool because extraction itself runs OCR pages in parallel
processes (daemonic prefork children could not start them).
"""

from __future__ import annotations

from celery import Celery
from kombu.exceptions import ChannelError

from archive_app.infra.config import Settings

PROCESS_DOCUMENT = "archive.process_document"
RETENTION_APPRAISAL = "archive.retention_appraisal"
AUDIT_CHECKPOINT = "archive.audit_checkpoint"
# The periodic inspection (定期检查, ``archive verify``) on ``ARCHIVE_INSPECTION_SCHEDULE``
# (daily by default; ``off`` leaves it out of the schedule).
INSPECTION = "archive.inspection"
# The periodic appraisal (鉴定) that lists what is eligible and notifies compliance; run by
# the beat of the worker started with ``--beat`` (``archive serve`` starts one so).
APPRAISAL_INTERVAL_SECONDS = 24 * 60 * 60
# Reminders (review queue, approvals, failed inspections, appraisal due): at most one note
# per subject per day however often it runs; hourly so a new day's notes come early.
REMINDERS = "archive.reminders"
REMINDERS_INTERVAL_SECONDS = 60 * 60
VISIBILITY_TIMEOUT_SECONDS = 60 * 60
# The audit head signed outside the database: what was logged before the last checkpoint
# cannot be cut from the trail unseen (destructions also sign at once).
AUDIT_CHECKPOINT_INTERVAL_SECONDS = 60 * 60


def broker_url(settings: Settings) -> str:
    return settings.broker_url or f"sqlite:///{settings.home / 'broker.sqlite'}"


def beat_schedule(settings: Settings) -> dict[str, dict[str, object]]:
    schedule: dict[str, dict[str, object]] = {
        "retention-appraisal": {
            "task": RETENTION_APPRAISAL,
            "schedule": APPRAISAL_INTERVAL_SECONDS,
        },
        "audit-checkpoint": {
            "task": AUDIT_CHECKPOINT,
            "schedule": AUDIT_CHECKPOINT_INTERVAL_SECONDS,
        },
        "reminders": {"task": REMINDERS, "schedule": REMINDERS_INTERVAL_SECONDS},
    }
    interval = settings.inspection_interval_seconds
    if interval is not None:
        schedule["inspection"] = {"task": INSPECTION, "schedule": interval}
    return schedule


def make_celery(settings: Settings) -> Celery:
    app = Celery("archive", broker=broker_url(settings), set_as_current=False)
    if not settings.broker_url:
        # Kombu's SQLAlchemy transport, polled every 0.1 s instead of every second.
        app.conf.broker_transport = "archive_app.tasks.embedded_broker:Transport"
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.queue_name,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
        beat_schedule=beat_schedule(settings),
        beat_schedule_filename=str(settings.home / "celerybeat-schedule"),
    )
    if settings.broker_url and settings.broker_url.startswith(("redis://", "rediss://")):
        # Redis gives a message back to the queue when the worker holding it has not
        # acknowledged it (acks_late) within this time, e.g. because it was killed. It must
        # exceed the longest retry countdown (RETRY_DELAYS), which the worker also holds
        # unacknowledged. Recovery requeues such a document sooner through its dead claim;
        # the returned message then finds it claimed or ready and is dropped. (The
        # embedded broker's transport takes no such option: it would reach its engine.)
        app.conf.broker_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS}
    return app


def queue_length(app: Celery, queue: str) -> int:
    """Messages waiting in ``queue`` (not those a worker holds); 0 for a queue that was
    never declared."""
    with app.connection_for_write() as connection:
        try:
            return connection.default_channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError:
            return 0
