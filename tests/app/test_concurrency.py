"""Concurrent archive creation gives unique, gap-free numbers on SQLite and PostgreSQL; the
same file uploaded by several people at once is filed once."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from hashlib import sha256
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive_app.infra.container import Container
from archive_app.infra.db import Database
from archive_app.models import AuditEntry, CustomerArchive, Document, User
from archive_app.services.audit import verify_chain
from archive_app.services.intake import IntakeItem, take_in
from tests import documents as docs
from tests.app.creators import create_archives

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers

THREADS = 12
PER_THREAD = 5
PROCESSES = 4
PER_PROCESS = 6
UPLOADERS = 6


def _assert_gap_free(numbers: list[str], expected: int) -> None:
    assert len(numbers) == expected
    assert len(set(numbers)) == expected, "a number was handed out twice"
    assert sorted(numbers) == [f"KH-{n:06d}" for n in range(1, expected + 1)]


def test_threads_get_unique_gap_free_numbers(database_url: str, database: Database) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(
            pool.map(lambda i: create_archives(database_url, f"t{i}", PER_THREAD), range(THREADS))
        )
    numbers = [number for batch in results for number in batch]
    _assert_gap_free(numbers, THREADS * PER_THREAD)
    with database.session() as session:
        stored = session.scalars(select(CustomerArchive.number)).all()
        assert sorted(stored) == sorted(numbers)
        # Every creation was audited, and the chain survived the concurrent appends.
        creations = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "archive.create")
        )
        assert creations == THREADS * PER_THREAD
        assert verify_chain(session).ok


def test_processes_get_unique_gap_free_numbers(database_url: str, database: Database) -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        futures = [
            pool.submit(create_archives, database_url, f"p{i}", PER_PROCESS)
            for i in range(PROCESSES)
        ]
        numbers = [number for future in futures for number in future.result(timeout=300)]
    _assert_gap_free(numbers, PROCESSES * PER_PROCESS)
    with database.session() as session:
        assert verify_chain(session).ok


def test_the_same_file_uploaded_at_once_is_filed_once_and_the_rest_are_duplicates(
    container: Container, admin: User, archive_number: str, tmp_path: Path
) -> None:
    # Found under load (bench/load.py): two uploads of one file both passed the duplicate
    # check, and the second insert hit the archive + hash constraint with an error 500.
    copies = []
    for index in range(UPLOADERS):
        path = docs.write_text_pdf([["记账凭证 并发上传"]], tmp_path / f"same-{index}.pdf")
        copies.append(path)
    assert len({sha256(path.read_bytes()).hexdigest() for path in copies}) == 1
    start = threading.Barrier(UPLOADERS)

    def upload(path: Path) -> str:
        start.wait()
        [result] = take_in(container, admin.id, archive_number, [IntakeItem(path, path.name)])
        return result.status

    with ThreadPoolExecutor(UPLOADERS) as pool:
        statuses = sorted(pool.map(upload, copies))
    assert statuses == ["duplicate"] * (UPLOADERS - 1) + ["queued"]
    with container.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1
        assert verify_chain(session).ok
    assert sum(1 for _ in container.store.iter_objects()) == 1  # the losers' copies are gone
