"""Nothing stuck or lost when a process dies: real workers and importers killed with
SIGKILL at several points of a document's way, on SQLite with the embedded broker and on
PostgreSQL with Redis; recovery (at the next worker's start, or run directly) gets every
document moving again without a manual retry and leaves no object behind.

Kill points: a worker holding a claim before any page is read and in the middle of the
OCR; a worker that stored the results but had not committed them (PostgreSQL: the commit
is held back with a row lock, so the kill lands exactly there); an importer that stored
a file but had not filed it; a task message lost on its way (the queue purged).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Connection, func, select, text

from archive_app.infra import processes
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.infra.db import Database
from archive_app.models import AuditEntry, Document, PendingObject, User, Worker, WorkerKind
from archive_app.services import claims, inspection, recovery
from archive_app.services.claims import MAX_INTERRUPTIONS
from archive_app.services.intake import IntakeItem, take_in
from archive_app.services.processing import process_document
from tests import documents as docs
from tests.app.workers import WorkerProcess, claimed_by, wait_for, wait_until, worker_env

pytestmark = pytest.mark.slow


@pytest.fixture
def instance_settings(broker_settings: Settings) -> Settings:
    return broker_settings  # every test here runs on the embedded broker and on Redis


# The two deployments: one machine with nothing to run, and several with servers.
DEPLOYMENTS = pytest.mark.parametrize(
    ("database_kind", "broker"),
    [("sqlite", "embedded"), ("postgresql", "redis")],
    indirect=["broker"],
)


def _scan(folder: Path, pages: int) -> Path:
    folder.mkdir(exist_ok=True)
    images = [
        docs.render_page([f"Page {page} of {pages}", *docs.ENGLISH_INVOICE_LINES])
        for page in range(1, pages + 1)
    ]
    return docs.write_scanned_pdf(images, folder / f"scan-{pages}.pdf")


def _take_in(container: Container, admin: User, archive_number: str, path: Path) -> str:
    [result] = take_in(container, admin.id, archive_number, [IntakeItem(path, path.name)])
    assert result.status == "queued", result
    assert result.document is not None
    return result.document


def _objects(container: Container) -> int:
    return sum(1 for _ in container.store.iter_objects())


def _pending(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count(PendingObject.id))) or 0


def _inspect(container: Container, admin: User) -> inspection.InspectionReport:
    container.drain_index_updates()
    with container.database.session() as session:
        return inspection.inspect(container, session, admin)


def _assert_nothing_left(container: Container, admin: User, documents: int) -> None:
    """Only the objects of the successful runs remain; the inspection finds nothing."""
    assert _objects(container) == 3 * documents  # original, text, rendition
    assert _pending(container.database) == 0
    report = _inspect(container, admin)
    assert report.clean, [finding.as_dict() for finding in report.findings]


@DEPLOYMENTS
def test_a_worker_killed_during_ocr_recovers_without_a_retry(
    container: Container,
    admin: User,
    archive_number: str,
    instance_settings: Settings,
    tmp_path: Path,
) -> None:
    number = _take_in(container, admin, archive_number, _scan(tmp_path / "in", 4))
    database = container.database

    first = WorkerProcess(instance_settings, tmp_path / "first.log")
    try:
        wait_until(database, number, claimed_by(first), worker=first, what="the first claim")
        first.kill()  # holding the claim, before or while reading page 1
    finally:
        first.stop()

    # Before any recovery the inspection names the document and what will recover it.
    report = _inspect(container, admin)
    [stuck] = [f for f in report.findings if f.problem == inspection.Problem.STUCK]
    assert stuck.document == number
    assert "no longer running" in stuck.detail

    second = WorkerProcess(instance_settings, tmp_path / "second.log")
    try:
        wait_until(
            database,
            number,
            lambda document, claimant: (
                claimed_by(second)(document, claimant) and document.progress_done >= 2
            ),
            worker=second,
            what="the second run to reach page 2",
        )
        second.kill()  # in the middle of the OCR
    finally:
        second.stop()

    third = WorkerProcess(instance_settings, tmp_path / "third.log")
    try:
        done = wait_for(database, [number], {"ready", "failed"}, worker=third)[number]
    finally:
        third.stop()
    assert done.status.value == "ready", done.failure_reason
    assert done.interruptions == 2
    assert done.page_count == 4
    with database.session() as session:
        interrupted = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "document.interrupted")
        ).all()
    assert [entry.object_id for entry in interrupted] == [number, number]
    _assert_nothing_left(container, admin, documents=1)


@contextmanager
def _held_back(database: Database, object_ids: list[str]) -> Iterator[Connection]:
    """Lock the rows of objects in flight, so the transaction that files them waits."""
    with database.engine.connect() as connection:
        transaction = connection.begin()
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT id FROM pending_objects WHERE object_id = ANY(:ids) FOR UPDATE"),
                {"ids": object_ids},
            )
        # On SQLite, begin() took the database's write lock (BEGIN IMMEDIATE).
        try:
            yield connection
        finally:
            transaction.rollback()


def _wait_stored(container: Container, storage_id: str, object_ids: list[str], process) -> None:
    import time

    deadline = time.monotonic() + 120
    while not all(container.store.exists(storage_id, object_id) for object_id in object_ids):
        assert process.poll() is None, "the process ended before storing"
        assert time.monotonic() < deadline, "nothing was stored within two minutes"
        time.sleep(0.02)


def _in_flight(database: Database, pid: int) -> tuple[str, list[str]]:
    with database.session() as session:
        rows = session.scalars(select(PendingObject).where(PendingObject.owner_pid == pid)).all()
    assert rows
    return rows[0].storage_id, [row.object_id for row in rows]


@pytest.mark.parametrize(
    ("database_kind", "broker"), [("postgresql", "redis")], indirect=["broker"]
)
def test_a_worker_killed_between_storing_results_and_committing_them(
    container: Container,
    admin: User,
    archive_number: str,
    instance_settings: Settings,
    tmp_path: Path,
) -> None:
    # PostgreSQL only: its row locks hold back the commit alone. On SQLite the only lock
    # is the whole database, which would stop the worker before it stores anything;
    # bench/faults.py kills at random moments on both.
    number = _take_in(container, admin, archive_number, _scan(tmp_path / "in", 2))
    database = container.database
    worker = WorkerProcess(instance_settings, tmp_path / "worker.log")
    try:
        wait_until(database, number, claimed_by(worker), worker=worker, what="the claim")
        storage_id, results = _in_flight(database, worker.process.pid)
        with _held_back(database, results):
            _wait_stored(container, storage_id, results, worker.process)
            worker.kill()
        assert _objects(container) == 3  # the original and the uncommitted results
    finally:
        worker.stop()

    successor = WorkerProcess(instance_settings, tmp_path / "successor.log")
    try:
        done = wait_for(database, [number], {"ready", "failed"}, worker=successor)[number]
    finally:
        successor.stop()
    assert done.status.value == "ready", done.failure_reason
    assert done.text_object_id not in results
    _assert_nothing_left(container, admin, documents=1)


def _noise_png(path: Path) -> Path:
    """An incompressible image of about 20 MB: encrypting it takes long enough to watch."""
    Image.frombytes("RGB", (2600, 2600), os.urandom(2600 * 2600 * 3)).save(path, compress_level=0)
    return path


@DEPLOYMENTS
def test_an_importer_killed_after_storing_a_file_leaves_nothing_behind(
    container: Container,
    admin: User,
    archive_number: str,
    instance_settings: Settings,
    tmp_path: Path,
) -> None:
    scan = _noise_png(tmp_path / "big.png")
    database = container.database
    importer = subprocess.Popen(
        [sys.executable, "-m", "archive_app", "import", str(scan), "--archive", archive_number],
        env=worker_env(instance_settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        storage_id, [object_id] = _wait_in_flight(database, importer)
        with _held_back(database, [object_id]):
            _wait_stored(container, storage_id, [object_id], importer)
            importer.send_signal(signal.SIGKILL)
            importer.wait(timeout=30)
    finally:
        if importer.poll() is None:
            importer.kill()
        importer.wait()
    with database.session() as session:
        assert session.scalar(select(func.count(Document.id))) == 0
    assert container.store.exists(storage_id, object_id)  # stored, never filed

    report = recovery.recover(container)
    assert report.reclaimed_objects == 1
    assert _objects(container) == 0
    assert _pending(database) == 0
    assert _inspect(container, admin).clean


def _wait_in_flight(database: Database, process: subprocess.Popen[bytes]) -> tuple[str, list[str]]:
    import time

    deadline = time.monotonic() + 120
    while True:
        with database.session() as session:
            rows = session.scalars(select(PendingObject)).all()
        if rows:
            return rows[0].storage_id, [row.object_id for row in rows]
        if process.poll() is not None:
            raise AssertionError(f"the importer ended early: {process.stderr.read()!r}")
        assert time.monotonic() < deadline, "the importer stored nothing within two minutes"
        time.sleep(0.005)


@DEPLOYMENTS
def test_a_lost_task_message_is_sent_again_by_the_next_worker(
    container: Container,
    admin: User,
    archive_number: str,
    instance_settings: Settings,
    tmp_path: Path,
) -> None:
    path = docs.write_text_pdf(
        [["Service Agreement", "Late delivery incurs a penalty."]], tmp_path / "a.pdf"
    )
    number = _take_in(container, admin, archive_number, path)
    # The message goes the way of one held by a worker that was killed (the embedded
    # broker never gives those back) or of one its importer never got to send.
    with container.celery.connection_for_write() as connection:
        assert connection.default_channel.queue_purge(instance_settings.queue_name) == 1
    worker = WorkerProcess(instance_settings, tmp_path / "worker.log")
    try:
        done = wait_for(container.database, [number], {"ready", "failed"}, worker=worker)[number]
    finally:
        worker.stop()
    assert done.status.value == "ready", done.failure_reason
    _assert_nothing_left(container, admin, documents=1)


@DEPLOYMENTS
def test_a_file_that_stops_its_worker_every_time_ends_failed(
    container: Container, admin: User, archive_number: str, tmp_path: Path
) -> None:
    path = docs.write_text_pdf([["Agreement"]], tmp_path / "a.pdf")
    number = _take_in(container, admin, archive_number, path)
    database = container.database
    for interruption in range(1, MAX_INTERRUPTIONS + 1):
        # A worker that claimed the document and is gone (a process that really ended).
        gone = subprocess.Popen(["true"])
        gone.wait()
        with database.session() as session:
            worker = Worker(
                kind=WorkerKind.WORKER, hostname=processes.current().hostname, pid=gone.pid
            )
            session.add(worker)
            session.flush()
            document = session.scalars(select(Document).where(Document.number == number)).one()
            claims.take(document, worker.id)
        report = recovery.recover(container)
        with database.session() as session:
            document = session.scalars(select(Document).where(Document.number == number)).one()
            assert document.interruptions == interruption
            if interruption < MAX_INTERRUPTIONS:
                assert report.requeued == [number]
                assert document.status.value == "queued"
    assert report.failed == [number]
    assert document.status.value == "failed"
    assert "stopped while processing it 3 times" in (document.failure_reason or "")


@DEPLOYMENTS
def test_a_document_whose_index_write_died_with_its_worker_is_indexed_again(
    container: Container, admin: User, archive_number: str, tmp_path: Path
) -> None:
    path = docs.write_text_pdf(
        [["Agreement", "Late delivery incurs a penalty."]], tmp_path / "a.pdf"
    )
    number = _take_in(container, admin, archive_number, path)
    with container.database.session() as session:
        document_id = session.scalars(select(Document.id).where(Document.number == number)).one()
    process_document(container, document_id)
    container.drain_index_updates()
    # What a worker killed right after committing the results leaves: a ready document
    # without its index entry, and a registry row still beating at that moment.
    container.search.delete([str(document_id)])
    assert _inspect(container, admin).problem_counts()["index_missing"] == 1
    gone = subprocess.Popen(["true"])
    gone.wait()
    with container.database.session() as session:
        processed_at = session.get(Document, document_id).processed_at
        session.add(
            Worker(
                kind=WorkerKind.WORKER,
                hostname=processes.current().hostname,
                pid=gone.pid,
                started_at=processed_at,
                heartbeat_at=processed_at,
            )
        )

    report = recovery.recover(container)
    assert report.lost_workers and report.reindexed == 1
    container.drain_index_updates()
    assert _inspect(container, admin).clean
    assert recovery.recover(container).reindexed == 0  # dealt with once
