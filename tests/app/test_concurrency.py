"""Concurrent archive creation gives unique, gap-free numbers on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from archive_app.infra.db import Database
from archive_app.models import AuditEntry, CustomerArchive
from archive_app.services.audit import verify_chain
from tests.app.creators import create_archives

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers

THREADS = 12
PER_THREAD = 5
PROCESSES = 4
PER_PROCESS = 6


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
