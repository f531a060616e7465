"""The worker registry: who is processing documents, and who is gone.

Contract:

- :func:`registered` registers the calling process (a :class:`~archive_app.models.Worker`
  row), refreshes its heartbeat every ``HEARTBEAT_SECONDS`` from a daemon thread while the
  block runs, calls ``on_beat`` after each refresh (recovery and the parent watch hang
  there), and marks the row stopped when the block ends.
- A worker is *alive* while it has not stopped, its heartbeat is younger than
  ``DEAD_AFTER``, and, when it ran on this host, its process still exists. The last test
  makes a worker killed on this machine count as gone at once; one on another machine
  counts as gone when its heartbeat is ``DEAD_AFTER`` old.
- :func:`any_background_worker` answers "is anything taking documents off the queue?"
  (the web banner, ``archive import --wait``); in-process extraction does not count.

A heartbeat that cannot be written (a busy or unreachable database) is retried at the next
beat: a worker wrongly taken for dead only loses its claims, whose documents are then
processed again; nothing is lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive_app.infra import processes
from archive_app.infra.db import Database
from archive_app.models import Worker, WorkerKind
from archive_app.models.base import utcnow

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
DEAD_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class Registration:
    worker_id: int


def is_alive(worker: Worker) -> bool:
    if worker.stopped_at is not None:
        return False
    if worker.heartbeat_at < utcnow() - DEAD_AFTER:
        return False
    return not processes.is_gone(worker.hostname, worker.pid)


def live_workers(session: Session) -> list[Worker]:
    """Background workers alive now (in-process extraction does not count)."""
    rows = session.scalars(
        select(Worker).where(
            Worker.stopped_at.is_(None), Worker.heartbeat_at >= utcnow() - DEAD_AFTER
        )
    )
    return [row for row in rows if row.kind.is_background and is_alive(row)]


def any_background_worker(session: Session) -> bool:
    return bool(live_workers(session))


def orphaned_embedded(session: Session) -> list[Worker]:
    """Live embedded workers of this host whose ``archive serve`` is gone."""
    me = processes.current()
    return [
        worker
        for worker in live_workers(session)
        if worker.kind == WorkerKind.EMBEDDED
        and worker.hostname == me.hostname
        and worker.parent_pid is not None
        and processes.is_gone(me.hostname, worker.parent_pid)
    ]


def mark_gone(database: Database, hostname: str, pid: int) -> None:
    """Record that the process ``pid`` on ``hostname`` has ended (its parent saw it die)."""
    with database.session() as session:
        session.execute(
            update(Worker)
            .where(Worker.hostname == hostname, Worker.pid == pid, Worker.stopped_at.is_(None))
            .values(stopped_at=utcnow(), stop_reason="lost")
        )


@contextmanager
def registered(
    database: Database,
    kind: WorkerKind,
    *,
    parent_pid: int | None = None,
    on_beat: Callable[[Registration], None] | None = None,
) -> Iterator[Registration]:
    me = processes.current()
    with database.session() as session:
        row = Worker(kind=kind, hostname=me.hostname, pid=me.pid, parent_pid=parent_pid)
        session.add(row)
        session.flush()
        registration = Registration(row.id)
    stop = threading.Event()
    thread = threading.Thread(
        target=_beat,
        args=(database, registration, stop, on_beat),
        name=f"heartbeat-{registration.worker_id}",
        daemon=True,
    )
    thread.start()
    try:
        yield registration
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_SECONDS * 2)
        with database.session() as session:
            session.execute(
                update(Worker)
                .where(Worker.id == registration.worker_id)
                .values(stopped_at=utcnow(), stop_reason="stopped")
            )


def _beat(
    database: Database,
    registration: Registration,
    stop: threading.Event,
    on_beat: Callable[[Registration], None] | None,
) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            with database.session() as session:
                # Also undoes a "lost" verdict reached while this worker could not beat.
                session.execute(
                    update(Worker)
                    .where(Worker.id == registration.worker_id)
                    .values(heartbeat_at=utcnow(), stopped_at=None, stop_reason=None)
                )
        except SQLAlchemyError as error:
            log.warning("heartbeat of worker %s not written: %s", registration.worker_id, error)
            continue
        if on_beat is not None:
            try:
                on_beat(registration)
            except Exception:
                # The heartbeat must outlive a failing periodic job.
                log.exception("periodic work of worker %s failed", registration.worker_id)
