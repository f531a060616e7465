"""Running a real background worker process for a test instance, and killing a real
command at a chosen moment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import select

from archive_app.infra.config import Settings
from archive_app.infra.db import Database
from archive_app.models import Document, Worker


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ARCHIVE_HOME": str(settings.home),
        "ARCHIVE_DATABASE_URL": settings.database_url,
        "ARCHIVE_SECRET_KEY": settings.secret_key or "",
        "ARCHIVE_QUEUE": settings.queue_name,
        "ARCHIVE_OCR_WORKERS": str(settings.ocr_workers),
        "ARCHIVE_OCR_LANGUAGES": settings.ocr_languages,
        **extra,
    }
    if settings.broker_url:
        env["ARCHIVE_BROKER_URL"] = settings.broker_url
    return env


class WorkerProcess:
    def __init__(self, settings: Settings, log: Path, *, beat: bool = False, **extra: str) -> None:
        """``beat``: the worker also runs the periodic schedule, as ``archive serve``'s does."""
        self.log_path = log
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "archive_app",
                "worker",
                "--loglevel",
                "INFO",
                *(["--beat"] if beat else []),
            ],
            env=worker_env(settings, **extra),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker dies mid-task, as in a crash."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def wait_for(
    database: Database,
    numbers: Iterable[str],
    states: set[str],
    *,
    timeout: float = 180,
    worker: WorkerProcess | None = None,
) -> dict[str, Document]:
    wanted = set(numbers)
    deadline = time.monotonic() + timeout
    while True:
        with database.session() as session:
            rows = {
                d.number: d
                for d in session.scalars(select(Document).where(Document.number.in_(wanted)))
            }
        if all(row.status.value in states for row in rows.values()) and len(rows) == len(wanted):
            return rows
        if worker is not None and worker.process.poll() is not None:
            raise AssertionError(f"the worker exited early:\n{worker.output()}")
        if time.monotonic() > deadline:
            states_now = {n: r.status.value for n, r in rows.items()}
            log = worker.output() if worker else ""
            raise AssertionError(f"timed out waiting for {states}: {states_now}\n{log}")
        time.sleep(0.3)


def wait_until(
    database: Database,
    number: str,
    condition: Callable[[Document, Worker | None], bool],
    *,
    worker: WorkerProcess | None = None,
    timeout: float = 120,
    what: str = "the document to reach the expected state",
) -> Document:
    """Poll the document (and the worker holding its claim) until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        with database.session() as session:
            document = session.scalars(select(Document).where(Document.number == number)).one()
            claimant = document.claimed_by
            if condition(document, claimant):
                return document
            state = (document.status.value, document.progress_done, document.progress_total)
        if worker is not None and worker.process.poll() is not None:
            raise AssertionError(f"the worker exited early:\n{worker.output()}")
        if time.monotonic() > deadline:
            log = worker.output() if worker else ""
            raise AssertionError(f"timed out waiting for {what}; now {state}\n{log}")
        time.sleep(0.05)


def claimed_by(worker: WorkerProcess) -> Callable[[Document, Worker | None], bool]:
    return lambda document, claimant: (
        document.status.value == "processing"
        and claimant is not None
        and claimant.pid == worker.process.pid
    )


def kill_when(
    settings: Settings, args: list[str], ready: Callable[[], bool], log: Path, **extra: str
) -> None:
    """Run ``archive ARGS`` in a process group of its own and SIGKILL it as soon as
    ``ready()`` holds (polled every 5 ms); fails if it exits first or takes over 120 s."""
    with log.open("wb") as output:
        child = subprocess.Popen(
            [sys.executable, "-m", "archive_app", *args],
            env=worker_env(settings, **extra),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            while not ready():
                assert child.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.005)
            os.killpg(child.pid, signal.SIGKILL)
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
