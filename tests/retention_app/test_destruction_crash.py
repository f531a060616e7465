"""A destruction killed with SIGKILL at each step recovers to a consistent state.

A real child process (:mod:`tests.retention_app.destruction_child`) runs the real
``run_batch`` and kills itself at the chosen moment: before the decision commits, just
after, between the shredding of two store archives, after shredding before the final
commit, after the final commit. Then recovery runs (``recover_interrupted``, as the worker
and the server call it at start, or the operator re-running ``retention batch run``), and
every record must be either intact (readable, hash unchanged, not pointing at any plan)
or destroyed (a stub with its destruction record, on a certificate that verifies), with
``archive verify`` and ``archive audit verify`` clean. A hold placed after the crash never
makes a record vanish unrecorded: on a record the committed decision names it is refused
(naming the batch) and the record is destroyed and certified; before the decision
commits, the hold wins and the re-run keeps the record.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive_app.infra.container import Container
from archive_app.models import (
    AuditEntry,
    DestructionCertificate,
    DestructionPlan,
    DestructionRecord,
    DispositionBatch,
    Document,
    User,
)
from archive_app.services.retention import batches, certificate_files, holds
from archive_app.services.retention.completion import recover_interrupted
from archive_app.services.retention.errors import BeingDestroyed
from archive_app.services.retention.plans import Decision
from tests.app.workers import WorkerProcess, worker_env
from tests.retention_app.conftest import add_document, document_row, index_ids, make_archive

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
OLD = date(1990, 3, 5)  # eligible since 2021
RECENT = date(2020, 6, 1)


@dataclass(frozen=True)
class World:
    batch: str
    planned: tuple[str, ...]  # cleared for destruction: one per store archive
    kept: str  # not eligible; shares a store archive with a planned record


@pytest.fixture
def world(container: Container, admin: User, people: dict[str, User], tmp_path: Path) -> World:
    """Two archives: one keeps a record (its objects are shredded one by one), the other
    is emptied (its archive key is destroyed and it moves to a fresh one)."""
    shared, emptied = (
        make_archive(container, admin, "甲公司"),
        make_archive(container, admin, "乙公司"),
    )
    files = tmp_path / "files"
    planned = (
        add_document(container, admin, shared, "voucher", files, document_date=OLD),
        add_document(container, admin, emptied, "voucher", files, document_date=OLD),
    )
    kept = add_document(container, admin, shared, "voucher", files, document_date=RECENT)
    with container.database.session() as session:
        row, _ = batches.create(session, people["c1"], date.today(), required_approvals=2)
        number = row.number
    with container.database.session() as session:
        batches.review(session, people["c1"], number, None, "destroy")
    for who in ("c1", "c2"):
        with container.database.session() as session:
            batches.approve(session, people[who], number)
    return World(number, planned, kept)


def kill_during(container: Container, batch: str, moment: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.retention_app.destruction_child", batch, "comp3", moment],
        env=worker_env(container.settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stderr[-3000:])


def assert_consistent(container: Container, cli, numbers: list[str]) -> dict[str, bool]:
    """Every record intact or destroyed and certified; verify and audit verify clean.
    Returns which records are destroyed."""
    destroyed = {}
    public = certificate_files.instance_public_key(container.settings)
    with container.database.session() as session:
        for number in numbers:
            document = session.scalar(select(Document).where(Document.number == number))
            assert document is not None and not document.is_being_destroyed, number
            destroyed[number] = document.is_destroyed
            if not document.is_destroyed:
                assert document.destruction_plan_id is None
                storage_id = document.archive.storage_id
                digest = container.store.verify_object(storage_id, document.original_object_id)
                assert digest == document.sha256, number
                continue
            record = session.get(DestructionRecord, document.id)
            assert record is not None, f"{number} is a stub without a destruction record"
            certificate = session.scalar(
                select(DestructionCertificate).where(
                    DestructionCertificate.certificate_id == record.certificate_id
                )
            )
            assert certificate is not None
            path = container.settings.home / "certificates" / certificate.file_name
            check = certificate_files.verify_bytes(path.read_bytes(), public)
            assert check.ok and check.pinned, check.reason
            items = json.loads(path.read_text())["certificate"]["items"]
            assert number in {item["document_number"] for item in items}
    inspection = cli("verify", "--json")
    assert inspection.returncode == 0, inspection.stdout + inspection.stderr
    trail = cli("audit", "verify")
    assert trail.returncode == 0, trail.stderr
    container.drain_index_updates()
    live_ids = {str(document_row(container, n).id) for n, gone in destroyed.items() if not gone}
    assert set(index_ids(container)) == live_ids
    return destroyed


def _plan_state(container: Container, batch: str) -> str | None:
    with container.database.session() as session:
        return session.scalar(
            select(DestructionPlan.state)
            .join(DispositionBatch)
            .where(DispositionBatch.number == batch)
        )


@pytest.mark.parametrize("moment", ["decided", "mid-shred", "finish", "done"])
def test_a_destruction_killed_after_its_decision_is_completed_by_recovery(
    container: Container,
    world: World,
    people: dict[str, User],
    cli,
    moment: str,
) -> None:
    kill_during(container, world.batch, moment)
    numbers = [*world.planned, world.kept]
    assert _plan_state(container, world.batch) == ("completed" if moment == "done" else "decided")
    # The child died where it was told to: count the planned records already shredded.
    expected = {"decided": 0, "mid-shred": 1, "finish": 2, "done": 2}[moment]
    assert sum(_shredded(container, world.batch).values()) == expected

    if moment != "done":
        # The hold-after-crash case: the decision is final, so a hold on a record it
        # names, or on an archive holding one, is refused naming the batch...
        for target in (
            {"documents": [world.planned[0]]},
            {"archives": [_archive_of(container, world.planned[1])]},
        ):
            with (
                pytest.raises(BeingDestroyed, match=world.batch),
                container.database.session() as session,
            ):
                holds.create_hold(session, people["c1"], "诉讼-1", "lawsuit", **target)
        # ...nor may anything else touch the batch before it is completed.
        assert (
            cli(
                "retention", "batch", "cancel", world.batch, "--reason", "x", "--as", "comp1"
            ).returncode
            == 1
        )
    # A hold on a record the decision does not name is placed as usual.
    with container.database.session() as session:
        holds.create_hold(session, people["c1"], "诉讼-2", "lawsuit", documents=[world.kept])

    reports = recover_interrupted(container)
    assert [r.batch for r in reports] == ([] if moment == "done" else [world.batch])
    assert _plan_state(container, world.batch) == "completed"
    destroyed = assert_consistent(container, cli, numbers)
    assert destroyed == {world.planned[0]: True, world.planned[1]: True, world.kept: False}
    assert recover_interrupted(container) == []


def test_a_rerun_of_the_batch_completes_what_was_decided(
    container: Container,
    world: World,
    cli,
) -> None:
    kill_during(container, world.batch, "mid-shred")
    rerun = cli("retention", "batch", "run", world.batch, "--as", "comp3", "--json")
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert sorted(report["destroyed"]) == sorted(world.planned)
    assert report["certificate"] == f"CERT-{world.batch}"
    assert assert_consistent(container, cli, [*world.planned, world.kept])[world.kept] is False


def test_a_starting_worker_completes_an_interrupted_destruction(
    container: Container,
    world: World,
    cli,
    tmp_path: Path,
) -> None:
    kill_during(container, world.batch, "mid-shred")
    worker = WorkerProcess(container.settings, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 60
        while f"completed the interrupted destruction of batch {world.batch}" not in (
            worker.output()
        ):
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.2)
    finally:
        worker.stop()
    assert _plan_state(container, world.batch) == "completed"
    assert assert_consistent(container, cli, [*world.planned, world.kept]) == {
        world.planned[0]: True,
        world.planned[1]: True,
        world.kept: False,
    }


def test_a_destruction_killed_before_its_decision_leaves_everything_and_yields_to_a_hold(
    container: Container,
    world: World,
    people: dict[str, User],
    cli,
) -> None:
    kill_during(container, world.batch, "decide")
    numbers = [*world.planned, world.kept]
    assert _plan_state(container, world.batch) is None
    assert recover_interrupted(container) == []
    assert set(assert_consistent(container, cli, numbers).values()) == {False}

    # The hold lands before the re-run: the re-run skips that record, which stays intact.
    with container.database.session() as session:
        holds.create_hold(session, people["c1"], "诉讼-3", "lawsuit", documents=[world.planned[0]])
    rerun = cli("retention", "batch", "run", world.batch, "--as", "comp3", "--json")
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["destroyed"] == [world.planned[1]]
    assert [s["document"] for s in report["skipped"]] == [world.planned[0]]
    destroyed = assert_consistent(container, cli, numbers)
    assert destroyed == {world.planned[0]: False, world.planned[1]: True, world.kept: False}


def _shredded(container: Container, batch: str) -> dict[str, bool]:
    """Per planned record: is none of its objects left in the store?"""
    with container.database.session() as session:
        row = session.scalar(
            select(DestructionPlan).join(DispositionBatch).where(DispositionBatch.number == batch)
        )
        assert row is not None
        plan = Decision.of(row).plan
    store = container.store
    return {
        r.document: not store.archive_exists(r.storage_id)
        or not any(store.exists(r.storage_id, o) for o in r.objects)
        for r in plan.records
    }


def _archive_of(container: Container, number: str) -> str:
    with container.database.session() as session:
        document = session.scalar(select(Document).where(Document.number == number))
        assert document is not None
        return document.archive.number


def test_two_processes_recovering_at_once_finish_the_destruction_once(
    container: Container,
    world: World,
    cli,
) -> None:
    """The worker and the server both start after a crash and both recover."""
    kill_during(container, world.batch, "decided")
    outcomes: list[object] = []

    def recover() -> None:
        own = Container.from_settings(container.settings)
        try:
            outcomes.append([r.batch for r in recover_interrupted(own)])
        except BaseException as error:  # reported to the main thread
            outcomes.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=recover) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(outcome, list) for outcome in outcomes), outcomes
    destroyed = assert_consistent(container, cli, [*world.planned, world.kept])
    assert destroyed == {world.planned[0]: True, world.planned[1]: True, world.kept: False}
    with container.database.session() as session:
        executions = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "retention.batch.execute")
        )
        records = session.scalar(select(func.count()).select_from(DestructionRecord))
    assert (executions, records) == (1, 2)
