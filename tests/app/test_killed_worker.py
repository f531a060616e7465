"""A worker killed with SIGKILL in the middle of OCR leaves no decrypted file behind once a
worker starts again, and no orphan Tesseract process at all (issue 13, point 2).

A real worker process reads a real multi-page scan with Tesseract; the test kills the worker
process alone (not its process group, which would kill the children for it), then checks
that its Tesseract children died with it, and that the next worker's start sweeps the
private temporary folder the killed one left in the instance.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import User
from archive_app.services.intake import IntakeItem, take_in
from tests import documents as docs
from tests.app.workers import WorkerProcess
from tests.retention_app.conftest import make_archive

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)]


def children(pid: int, name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        command, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        if command == name and int(rest.split()[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_sigkill_during_ocr_leaves_no_plaintext_and_no_orphan(
    container: Container, admin: User, settings: Settings, tmp_path: Path
):
    archive = make_archive(container, admin)
    page = docs.render_page(docs.ENGLISH_INVOICE_LINES * 6, a4=True)
    scan = docs.write_tiff([page] * 6, tmp_path / "long.tif")
    [queued] = take_in(container, admin.id, archive, [IntakeItem(path=scan, filename="long.tif")])
    container.enqueue_processing(queued.document_id)
    scratch = settings.home / "tmp"

    worker = WorkerProcess(
        container.settings, tmp_path / "worker.log", ARCHIVE_OCR_ENGINE="tesseract"
    )
    # The worker is reading the document: its original is decrypted in the worker's own
    # private folder, and a Tesseract child reads a page (not the start-up language check).
    deadline = time.monotonic() + 120
    own: Path | None = None
    readers: list[int] = []
    while time.monotonic() < deadline:
        folders = list(scratch.glob(f"*-{worker.process.pid}")) if scratch.exists() else []
        own = folders[0] if folders else None
        if own is not None and any(p.name == "original" for p in files_under(own)):
            readers = children(worker.process.pid, "tesseract")
            if readers:
                break
        time.sleep(0.05)
    assert own is not None and readers, f"no OCR seen:\n{worker.output()}"

    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in readers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in readers), "tesseract outlived its worker"
    worker.stop()

    assert files_under(own)  # nobody could clean up after a SIGKILL...
    restarted = WorkerProcess(container.settings, tmp_path / "worker2.log")
    try:
        deadline = time.monotonic() + 60
        while own.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not own.exists(), restarted.output()  # ...the next worker's start sweeps it
        assert oct(scratch.stat().st_mode & 0o777) == "0o700"
    finally:
        restarted.stop()
