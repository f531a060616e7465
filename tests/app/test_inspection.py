"""The periodic inspection (``archive verify``) against a real store, database and index:
a clean instance passes; a flipped byte, a deleted blob file, a stray object, a wrong
recorded hash and a record claiming content it has not are each found and named; a
destroyed record's shredded objects are not; only compliance and admin may run it.

Documents go through the real intake and the real processing step in-process (see
``tests.retention_app.conftest.add_document``); the command runs as a real process.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from archive_app.errors import PermissionDenied
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.infra.vault import store_root
from archive_app.models import AuditEntry, Document, DocumentVersion, User
from archive_app.services import inspection, versions
from archive_app.services.processing import process_document
from archive_app.services.retention import batches, destruction
from tests import documents as docs
from tests.conftest import CliResult, run_cli
from tests.retention_app.conftest import add_document, document_row, make_archive
from tests.storage.conftest import blob_path

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers

# The retention tests' container (retention rules seeded): destroyed records are part of
# what the inspection must recognise.

OLD = date(1990, 3, 5)  # a voucher of 1990 is past its 30 years
RECENT = date(2020, 6, 1)


@pytest.fixture
def run(settings: Settings, database_url: str, container: Container):
    env = {**os.environ, "ARCHIVE_HOME": str(settings.home), "ARCHIVE_DATABASE_URL": database_url}

    def _run(*args: str) -> CliResult:
        # Index updates are applied after commit on a background thread: let them land.
        container.drain_index_updates()
        return run_cli(env, *args)

    return _run


@pytest.fixture
def filed(container: Container, admin: User, tmp_path: Path) -> tuple[str, str]:
    """Two processed records in one archive: (first number, second number)."""
    archive = make_archive(container, admin)
    first = add_document(container, admin, archive, "voucher", tmp_path / "f", document_date=OLD)
    second = add_document(
        container, admin, archive, "voucher", tmp_path / "f", document_date=RECENT
    )
    return first, second


def _verify_json(run, *args: str) -> tuple[int, dict]:
    result = run("verify", "--json", *args)
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)


def _blob(container: Container, number: str, column: str) -> Path:
    row = document_row(container, number)
    with container.database.session() as session:
        storage_id = session.get(Document, row.id).archive.storage_id
    return blob_path(store_root(container.settings), storage_id, getattr(row, column))


def _problems(report: dict) -> list[tuple[str, str | None, str | None]]:
    return [(f["problem"], f["document"], f["object"]) for f in report["findings"]]


def test_a_clean_instance_passes_and_the_run_is_audited(
    run, container: Container, filed: tuple[str, str], make_user
) -> None:
    make_user("comp", "compliance")
    result = run("verify", "--as", "comp")
    assert result.returncode == 0, result.stderr
    assert "no problems found" in result.stdout

    code, report = _verify_json(run)
    assert code == 0
    assert set(report) == {
        "clean",
        "started_at",
        "finished_at",
        "documents",
        "destroyed_skipped",
        "versions",
        "objects_checked",
        "store_objects",
        "findings",
        "problems",
    }
    assert report["clean"] is True and report["findings"] == []
    assert report["documents"] == 2 and report["destroyed_skipped"] == 0
    assert report["objects_checked"] == 6 and report["store_objects"] == 6
    assert set(report["problems"]) == {p.value for p in inspection.Problem}
    assert not any(report["problems"].values())

    with container.database.session() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "inspection").order_by(AuditEntry.seq)
        ).all()
    assert [e.actor_name for e in entries] == ["comp", "admin"]
    assert entries[-1].after is not None and entries[-1].after["documents"] == 2


def test_a_flipped_byte_is_reported_as_damaged(
    run, container: Container, filed: tuple[str, str]
) -> None:
    first, _ = filed
    path = _blob(container, first, "original_object_id")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    code, report = _verify_json(run)
    assert code == 1
    assert _problems(report) == [("damaged", first, "original")]
    [finding] = report["findings"]
    assert finding["version"] is None and finding["detail"]

    result = run("verify")
    assert result.returncode == 1
    assert "damaged" in result.stdout and first in result.stdout


def test_a_deleted_blob_file_is_reported_as_missing(
    run, container: Container, filed: tuple[str, str]
) -> None:
    _, second = filed
    _blob(container, second, "rendition_object_id").unlink()

    code, report = _verify_json(run)
    assert code == 1
    assert _problems(report) == [("missing", second, "rendition")]


def test_an_object_nothing_references_is_reported_not_deleted(
    run, container: Container, filed: tuple[str, str]
) -> None:
    first, _ = filed
    with container.database.session() as session:
        storage_id = session.scalars(select(Document).where(Document.number == first)).one()
        storage_id = storage_id.archive.storage_id
    stray = container.store.put(storage_id, b"left behind by a crashed import")

    code, report = _verify_json(run)
    assert code == 1
    [finding] = report["findings"]
    assert finding["problem"] == "unreferenced" and finding["document"] is None
    assert finding["object_id"] == stray.object_id
    assert finding["archive"] == "KH-000001"
    assert container.store.exists(storage_id, stray.object_id)


def test_a_destroyed_records_shredded_objects_are_not_reported(
    run, container: Container, admin: User, filed: tuple[str, str], make_user
) -> None:
    old, _ = filed
    approvers = [make_user("comp1", "compliance"), make_user("comp2", "compliance")]
    with container.database.session() as session:
        row, _ = batches.create(session, approvers[0], date.today(), required_approvals=2)
        number = row.number
    with container.database.session() as session:
        batches.review(session, approvers[0], number, None, "destroy")
    for approver in approvers:
        with container.database.session() as session:
            batches.approve(session, approver, number)
    with container.database.session() as session:
        outcome = destruction.run_batch(container, session, admin, number)
    assert outcome.destroyed == [old]

    code, report = _verify_json(run)
    assert code == 0, report["findings"]
    assert report["documents"] == 1 and report["destroyed_skipped"] == 1
    assert report["store_objects"] == 3


def test_wrong_hash_claims_without_objects_and_old_versions(
    container: Container, admin: User, filed: tuple[str, str], tmp_path: Path
) -> None:
    """Through the service: a recorded hash that differs, a ready record without its
    text (whose object then belongs to nobody), and a superseded version's damage."""
    first, second = filed
    corrected = docs.write_text_pdf([["voucher corrected", "Payment voucher"]], tmp_path / "c.pdf")
    assert versions.add_version(container, admin.id, second, corrected, "c.pdf") == 2
    process_document(container, document_row(container, second).id)
    old_original = _blob(container, second, "original_object_id")  # v2's: fine
    with container.database.session() as session:
        first_id = session.scalar(select(Document.id).where(Document.number == first))
        # Recorded consistently on the record and its version row: only the content differs.
        session.execute(update(Document).where(Document.id == first_id).values(sha256="0" * 64))
        session.execute(
            update(DocumentVersion)
            .where(DocumentVersion.document_id == first_id)
            .values(sha256="0" * 64)
        )
        text_of_first = session.scalar(
            select(Document.text_object_id).where(Document.number == first)
        )
        session.execute(
            update(Document).where(Document.number == first).values(text_object_id=None)
        )
    assert old_original.exists()
    with container.database.session() as session:
        v1 = session.scalars(
            select(DocumentVersion).where(
                DocumentVersion.document_id == document_row(container, second).id,
                DocumentVersion.version == 1,
            )
        ).one()
        storage_id = session.get(Document, v1.document_id).archive.storage_id
        v1_text = blob_path(store_root(container.settings), storage_id, v1.text_object_id)
    data = bytearray(v1_text.read_bytes())
    data[-5] ^= 0xFF
    v1_text.write_bytes(bytes(data))

    seen: list[tuple[int, int]] = []
    with container.database.session() as session:
        report = inspection.inspect(
            container, session, admin, progress=lambda done, total: seen.append((done, total))
        )
    found = {(f.problem.value, f.document, f.version, f.kind) for f in report.findings}
    assert found == {
        ("checksum_mismatch", first, None, inspection.ObjectKind.ORIGINAL),
        ("checklist", first, None, inspection.ObjectKind.TEXT),
        ("unreferenced", None, None, None),
        ("damaged", second, 1, inspection.ObjectKind.TEXT),
        # The record without its text has left the index's idea of what is indexable.
        ("index_stale", first, None, None),
    }
    [stray] = [f for f in report.findings if f.problem == inspection.Problem.UNREFERENCED]
    assert stray.object_id == text_of_first
    assert report.versions == 1
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)


def test_only_compliance_and_admin_may_inspect(
    run, container: Container, filed: tuple[str, str], make_user
) -> None:
    make_user("arch", "archivist")
    auditor = make_user("aud", "auditor")
    result = run("verify", "--as", "arch")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "archive: user 'arch' may not run the periodic inspection"
    assert result.stdout == ""
    with container.database.session() as session, pytest.raises(PermissionDenied):
        inspection.inspect(container, session, auditor)
    with container.database.session() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "inspection")
            )
            == 0
        )
