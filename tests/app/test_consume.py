"""The watched intake folder with a real ``archive consume`` process: a good file is filed
and removed, a file still being written is left alone until it is complete, a refused file
and a file for an unknown archive move to ``.rejected`` with their reason, and SIGKILL at
different moments loses nothing and files nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.infra.db import Database
from archive_app.models import AuditEntry, Document, User
from archive_app.services.intake import sha256_of
from tests import documents as docs
from tests.app.test_serve import _free_port
from tests.app.workers import worker_env
from tests.retention_app.conftest import make_archive

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)]

SETTLE = "0.3"


class Consumer:
    """``archive consume DIR`` in a process group of its own, its output in a log file."""

    def __init__(self, settings: Settings, folder: Path, log: Path, user: str) -> None:
        self.log_path = log
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "archive_app", "consume", str(folder)],
            env=worker_env(
                settings,
                ARCHIVE_CONSUME_USER=user,
                ARCHIVE_CONSUME_SETTLE_SECONDS=SETTLE,
                ARCHIVE_CONSUME_RESCAN_SECONDS="1",
            ),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_started(self) -> None:
        self.wait_until(lambda: "consuming " in self.output(), "the consumer to start")

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"the consumer exited early:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.output()}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self._log.close()


@pytest.fixture
def archivist(make_user) -> User:
    return make_user("scanner", "archivist")


@pytest.fixture
def intake(tmp_path: Path) -> Path:
    folder = tmp_path / "intake"
    folder.mkdir()
    return folder


@pytest.fixture
def consumer(
    container: Container, archivist: User, intake: Path, tmp_path: Path
) -> Iterator[Consumer]:
    process = Consumer(container.settings, intake, tmp_path / "consume.log", archivist.username)
    process.wait_started()
    yield process
    process.stop()


def pdf(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return docs.write_text_pdf([[text, "Consumed from the intake folder."]], path)


def filed(database: Database) -> dict[str, dict[str, object]]:
    """Every filed document by SHA-256: its number, class, size and file name."""
    with database.session() as session:
        return {
            d.sha256: {
                "number": d.number,
                "class": d.document_class.code,
                "size": d.size_bytes,
                "file": d.original_filename,
            }
            for d in session.scalars(select(Document))
        }


def listing(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name != ".consume.lock"
    )


def test_good_bad_unknown_and_partial_files(
    container: Container, admin: User, database: Database, intake: Path, consumer: Consumer
):
    archive = make_archive(container, admin)
    good = pdf(intake / archive / "invoice" / "good.pdf", "Invoice 1001")
    digest, content = sha256_of(good), good.read_bytes()
    consumer.wait_until(lambda: not good.exists(), "the good file to be filed")
    [document] = filed(database).values()
    assert filed(database)[digest]["class"] == "invoice"
    number = document["number"]
    assert f"filed     {archive}/invoice/good.pdf → {number}" in consumer.output()
    with database.session() as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "document.create", AuditEntry.object_id == number
            )
        ).one()
        assert entry.actor_name == "scanner"
        assert entry.after["consumed_from"] == f"{archive}/invoice/good.pdf"

    (intake / archive / "notes.exe").write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    pdf(intake / "KH-999999" / "lost.pdf", "Invoice for nobody")
    rejected = intake / ".rejected"
    consumer.wait_until(
        lambda: (
            (rejected / "lost.pdf.reason.txt").exists()
            and (rejected / "notes.exe.reason.txt").exists()
        ),
        "the two refused files to be rejected",
    )
    assert (rejected / "notes.exe").exists() and (rejected / "lost.pdf").exists()
    assert "not found" in (rejected / "lost.pdf.reason.txt").read_text()
    assert (rejected / "notes.exe.reason.txt").read_text().startswith(f"{archive}/notes.exe\n")
    assert f"rejected  {archive}/notes.exe:" in consumer.output()

    # The same content again is a duplicate of another filing: rejected, not removed.
    (intake / archive / "again.pdf").write_bytes(content)
    consumer.wait_until(
        lambda: (rejected / "again.pdf.reason.txt").exists(), "the duplicate to be rejected"
    )
    assert number in (rejected / "again.pdf.reason.txt").read_text()

    # A file written slowly (longer than the settle time) stays until it is complete.
    source = pdf(intake.parent / "slow.pdf", "Invoice 1002 " + "x" * 4000).read_bytes()
    slow = intake / archive / "slow.pdf"
    with slow.open("wb") as out:
        for start in range(0, len(source), len(source) // 8 + 1):
            out.write(source[start : start + len(source) // 8 + 1])
            out.flush()
            time.sleep(0.15)
            assert slow.exists()
    consumer.wait_until(lambda: not slow.exists(), "the slow file to be filed")
    assert filed(database)[sha256_of(intake.parent / "slow.pdf")]["size"] == len(source)
    assert listing(intake) == sorted(
        [
            ".rejected/again.pdf",
            ".rejected/again.pdf.reason.txt",
            ".rejected/lost.pdf",
            ".rejected/lost.pdf.reason.txt",
            ".rejected/notes.exe",
            ".rejected/notes.exe.reason.txt",
        ]
    )


def test_kill_9_at_any_moment_loses_nothing_and_files_nothing_twice(
    container: Container,
    admin: User,
    archivist: User,
    database: Database,
    intake: Path,
    tmp_path: Path,
):
    archive = make_archive(container, admin)
    sources = tmp_path / "sources"
    dropped: dict[str, str] = {}  # sha256 -> name
    # Killed at different moments after the consumer has started (its files settle after
    # 0.3 s): while it waits, while it stores, while it commits, while it removes.
    for round_, delay in enumerate((0.2, 0.5, 0.8, 1.2)):
        for index in range(3):
            name = f"r{round_}-{index}.pdf"
            made = pdf(sources / name, f"Invoice {round_}-{index}")
            dropped[sha256_of(made)] = name
            (intake / archive).mkdir(exist_ok=True)
            os.replace(made, intake / archive / name)
        process = Consumer(container.settings, intake, tmp_path / f"kill-{round_}.log", "scanner")
        process.wait_started()
        time.sleep(delay)
        process.kill()
        # Nothing lost: every file dropped so far is in the folder or filed (or both).
        present = {sha256_of(p) for p in (intake / archive).iterdir()}
        assert set(dropped) <= present | set(filed(database))
    final = Consumer(container.settings, intake, tmp_path / "final.log", "scanner")
    final.wait_started()
    final.wait_until(lambda: not any((intake / archive).iterdir()), "the folder to be emptied")
    final.stop()
    documents = filed(database)
    assert set(documents) == set(dropped)  # each file filed, once (sha256 is the key)
    assert not (intake / ".rejected").exists(), final.output()
    assert {d["file"] for d in documents.values()} == set(dropped.values())


def test_the_consume_user_must_be_allowed_to_file(make_user, cli, intake: Path):
    make_user("viewer", "staff")
    result = cli("consume", str(intake), "--as", "viewer")
    assert result.returncode != 0
    assert "file or edit documents" in result.stderr
    result = cli("consume", str(intake))
    assert result.returncode != 0 and "ARCHIVE_CONSUME_USER" in result.stderr


def test_serve_runs_the_consumer_when_the_folder_is_set(
    container: Container, admin: User, archivist: User, database: Database, intake: Path, tmp_path
):
    archive = make_archive(container, admin)
    log = tmp_path / "serve.log"
    with log.open("ab") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "archive_app",
                "serve",
                "--no-worker",
                "--port",
                str(_free_port()),
            ],
            env=worker_env(
                container.settings,
                ARCHIVE_CONSUME_DIR=str(intake),
                ARCHIVE_CONSUME_USER=archivist.username,
                ARCHIVE_CONSUME_SETTLE_SECONDS=SETTLE,
            ),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        dropped = pdf(intake / archive / "served.pdf", "Invoice 2001")
        digest = sha256_of(dropped)
        deadline = time.monotonic() + 60
        while dropped.exists():
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert digest in filed(database)
    finally:
        server.terminate()
        server.wait(timeout=60)
    output = log.read_text()
    assert f"filed     {archive}/served.pdf" in output
    assert "stopping the intake folder's consumer" in output and "stopped" in output


def test_a_file_filed_by_a_killed_pass_is_removed_not_filed_twice(
    container: Container, admin: User, archivist: User, database: Database, intake: Path
):
    """The state a kill between the commit and the removal leaves: the file is filed (with
    its place in the folder on record) and still there. A copy of the same content at
    another place is a duplicate, and is rejected."""
    from archive_app.services import consume
    from archive_app.services.intake import IntakeItem, take_in

    archive = make_archive(container, admin)
    left = pdf(intake / archive / "left.pdf", "Invoice 3001")
    [result] = take_in(
        container,
        archivist.id,
        archive,
        [IntakeItem(path=left, filename="left.pdf", origin=f"{archive}/left.pdf")],
    )
    copy = intake / archive / "copy.pdf"
    copy.write_bytes(left.read_bytes())
    events = [
        consume.consume_one(container, archivist.id, intake, arrival)
        for arrival in consume.arrivals(intake)
    ]
    assert [(e.outcome, e.file, e.document) for e in events] == [
        ("rejected", f"{archive}/copy.pdf", None),
        ("removed", f"{archive}/left.pdf", result.document),
    ]
    assert listing(intake) == [".rejected/copy.pdf", ".rejected/copy.pdf.reason.txt"]
    assert len(filed(database)) == 1
