"""Destruction end to end: plan, batch, review, approvals, 监销 separation, re-check at
execution, dry run, crypto-shredding against a backup copy, stubs and the certificate."""

from __future__ import annotations

import json
import shutil
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive_app.infra.container import Container
from archive_app.infra.vault import store_root
from archive_app.models import (
    AuditEntry,
    DestructionCertificate,
    DestructionRecord,
    DispositionBatch,
    Document,
    User,
)
from archive_app.services import documents as document_service
from archive_app.services import notes, tags
from archive_app.services.audit import verify_chain
from archive_app.services.retention import batches, destruction, holds, planning
from archive_app.services.retention.errors import (
    DispositionRefused,
    LegalHoldActive,
    RecordDestroyed,
)
from storage import IntegrityError, ObjectNotFound, load_key_file
from tests.retention_app.conftest import add_document, document_row, index_ids, make_archive
from tests.storage.conftest import all_keys, blob_path, decrypt_with, keystore_rows

OLD = date(1990, 3, 5)  # a voucher of 1990 is eligible from 2021-01-01 (30 years, fiscal)
RECENT = date(2020, 6, 1)


def _approved_batch(container: Container, people: dict[str, User]) -> str:
    with container.database.session() as session:
        row, _ = batches.create(session, people["c1"], date.today(), required_approvals=2)
        number = row.number
    with container.database.session() as session:
        batches.review(session, people["c1"], number, None, "destroy")
    for who in ("c1", "c2"):
        with container.database.session() as session:
            batches.approve(session, people[who], number)
    return number


def _run(container: Container, actor: User, number: str, **options):
    with container.database.session() as session:
        return destruction.run_batch(container, session, actor, number, **options)


def test_destroying_defeats_a_backup_copy_and_leaves_stubs(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> None:
    archive = make_archive(container, admin)
    old = add_document(container, admin, archive, "voucher", tmp_path / "f", document_date=OLD)
    neighbour = add_document(
        container, admin, archive, "voucher", tmp_path / "f", document_date=RECENT
    )
    with container.database.session() as session:
        report = planning.make_plan(session, people["c1"], date.today())
        reasons = {d.record_id: d.reason.value for d in report.plan.not_eligible}
        assert [d.record_id for d in report.plan.eligible] == [old]
        assert reasons[neighbour] == "PERIOD_RUNNING"

    before = document_row(container, old)
    storage_id = _storage_id(container, old)
    objects = [before.original_object_id, before.text_object_id, before.rendition_object_id]
    old_id, neighbour_id = document_row(container, old).id, document_row(container, neighbour).id
    with container.database.session() as session:
        notes.add_note(session, admin, old, "张三的凭证，原件在财务室")
        tags.tag_document(session, admin, old, add=["张三"])
    assert index_ids(container) == sorted([str(old_id), str(neighbour_id)])
    number = _approved_batch(container, people)

    backup = tmp_path / "backup"
    shutil.copytree(container.settings.home, backup)

    # Approvers may not execute (监销).
    with pytest.raises(DispositionRefused, match="approved this batch"):
        _run(container, people["c1"], number)
    report = _run(container, people["c3"], number)
    assert report.destroyed == [old]
    assert report.objects_shredded == 3
    assert report.certificate_path is not None and report.certificate_path.exists()
    assert index_ids(container) == [str(neighbour_id)]

    live = store_root(container.settings)
    copied = backup / live.relative_to(container.settings.home)
    master = load_key_file(container.settings.resolved_master_key_file)
    live_keys = all_keys(live, master)
    assert live_keys
    for object_id in objects:
        assert object_id is not None
        copied_blob = blob_path(copied, storage_id, object_id)
        assert copied_blob.exists()
        for _name, key in live_keys:
            with pytest.raises(IntegrityError):
                decrypt_with(copied_blob, key, storage_id, object_id)
        with pytest.raises(ObjectNotFound):
            container.store.read_bytes(storage_id, object_id)

    # The neighbour's backup copies still decrypt with the live keys.
    kept = document_row(container, neighbour)
    path = blob_path(live, storage_id, kept.original_object_id)
    path.unlink()
    shutil.copyfile(blob_path(copied, storage_id, kept.original_object_id), path)
    assert len(container.store.read_bytes(storage_id, kept.original_object_id)) == kept.size_bytes

    # The stub: number, title, class, dates; no content, no hash, no object ids.
    stub = document_row(container, old)
    assert stub.destroyed_at is not None
    assert stub.fields == {} and stub.unreadable_pages == [] and not stub.misfiling_suspected
    assert stub.sha256 is None and stub.original_object_id is None
    assert stub.text_object_id is None and stub.rendition_object_id is None
    assert stub.document_date == OLD
    with container.database.session() as session:  # notes and tags went with the content
        assert notes.notes_of(session, stub) == [] and tags.tags_of(session, stub) == []
    with container.database.session() as session:
        record = session.get(DestructionRecord, stub.id)
        assert record is not None and record.certificate_id == report.certificate_id
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "document.destroy", AuditEntry.object_id == old)
            )
            == 1
        )
        assert verify_chain(session).ok  # the bulk-written entries chain like any other
        with pytest.raises(RecordDestroyed):
            document_service.prepare_export(session, admin, old, "original")


def _two_old_vouchers_approved(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> tuple[str, str, str]:
    """Two eligible vouchers in one archive and an approved batch destroying both."""
    archive = make_archive(container, admin)
    first = add_document(container, admin, archive, "voucher", tmp_path / "f", document_date=OLD)
    second = add_document(
        container, admin, archive, "voucher", tmp_path / "f", document_date=date(1991, 1, 2)
    )
    return first, second, _approved_batch(container, people)


def test_recheck_at_execution_skips_a_record_that_became_held(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> None:
    first, second, number = _two_old_vouchers_approved(container, admin, people, tmp_path)
    with container.database.session() as session:
        holds.create_hold(
            session, people["c1"], "诉讼-2026-01", "pending lawsuit", documents=[second]
        )

    # Held records cannot be changed either.
    with container.database.session() as session:
        with pytest.raises(LegalHoldActive) as caught:
            document_service.edit_document(session, admin, second, title="changed")
        assert caught.value.hold_ids == ("诉讼-2026-01",)

    report = _run(container, people["c3"], number)
    assert report.destroyed == [first]
    assert [(s["document"], s["reason"]) for s in report.skipped] == [(second, "HELD")]
    assert document_row(container, second).destroyed_at is None
    assert container.store.exists(
        _storage_id(container, second), document_row(container, second).original_object_id
    )
    certificate = json.loads(report.certificate_path.read_text())["certificate"]
    assert certificate["hold_check"]["held_record_ids"] == [second]


def test_a_hold_placed_while_destruction_runs_is_never_lost(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> None:
    first, second, number = _two_old_vouchers_approved(container, admin, people, tmp_path)
    outcome: dict[str, object] = {}

    def execute() -> None:
        try:
            outcome["report"] = _run(container, people["c3"], number)
        except BaseException as error:  # reported to the main thread
            outcome["error"] = error

    # The hold's transaction is still open when the batch starts executing: the execution
    # must wait for it and then see the hold, never shred beside it.
    with container.database.session() as session:
        holds.create_hold(session, people["c1"], "诉讼-2026-02", "new lawsuit", documents=[second])
        runner = threading.Thread(target=execute)
        runner.start()
        runner.join(timeout=1.5)
        assert runner.is_alive(), "destruction ran beside an uncommitted legal hold"
    runner.join(timeout=60)
    assert not runner.is_alive() and "error" not in outcome, outcome.get("error")
    report = outcome["report"]
    assert report.destroyed == [first]
    assert [(s["document"], s["reason"]) for s in report.skipped] == [(second, "HELD")]
    assert document_row(container, second).destroyed_at is None


def _storage_id(container: Container, number: str) -> str:
    with container.database.session() as session:
        doc = session.scalar(select(Document).where(Document.number == number))
        return doc.archive.storage_id


def test_dry_run_changes_nothing(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> None:
    archive = make_archive(container, admin)
    old = add_document(container, admin, archive, "voucher", tmp_path / "f", document_date=OLD)
    number = _approved_batch(container, people)

    def snapshot() -> tuple:
        with container.database.session() as session:
            docs = [
                (d.number, d.sha256, d.original_object_id, d.text_object_id, d.destroyed_at)
                for d in session.scalars(select(Document).order_by(Document.id))
            ]
            batch = session.scalar(select(DispositionBatch)).state_json
            counts = (
                session.scalar(select(func.count()).select_from(DestructionRecord)),
                session.scalar(select(func.count()).select_from(DestructionCertificate)),
            )
        objects = sorted((o.archive_id, o.object_id) for o in container.store.iter_objects())
        blobs = sorted(p.name for p in (store_root(container.settings) / "blobs").rglob("*.blob"))
        keys = keystore_rows(store_root(container.settings))
        return docs, batch, counts, objects, blobs, keys, index_ids(container)

    before = snapshot()
    report = _run(container, people["c3"], number, dry_run=True)
    assert report.destroyed == [old] and report.objects_shredded == 3
    assert report.certificate_path is None
    assert snapshot() == before
    assert not (container.settings.home / "certificates").exists()

    # For real: the archive had no other record, so its key is destroyed as well.
    storage_id = _storage_id(container, old)
    assert report.archive_keys_destroyed == [storage_id]
    done = _run(container, people["c3"], number)
    assert done.archive_keys_destroyed == [storage_id]
    assert not container.store.archive_exists(storage_id)
    item = json.loads(done.certificate_path.read_text())["certificate"]["items"][0]
    assert f"archive-key:{storage_id}" in item["keys_destroyed"]
    assert len(item["keys_destroyed"]) == 4  # three data keys and the archive key

    # The customer archive lives on: its next document is filed under a fresh key.
    newer = add_document(container, admin, archive, "voucher", tmp_path / "g", document_date=RECENT)
    fresh = _storage_id(container, newer)
    assert fresh != storage_id and container.store.archive_exists(fresh)
    assert not container.store.archive_exists(storage_id)
    assert container.store.read_bytes(fresh, document_row(container, newer).original_object_id)


def test_every_version_is_shredded_and_init_creates_the_signing_key_once(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> None:
    from archive_app.models import DocumentVersion
    from archive_app.services import versions
    from archive_app.services.initialise import initialise
    from archive_app.services.processing import process_document
    from archive_app.services.retention.certificate_files import private_key_path
    from tests import documents as docs

    initialise(container.settings)
    key = private_key_path(container.settings)
    assert key.stat().st_mode & 0o777 == 0o600
    pem = key.read_bytes()
    initialise(container.settings)
    assert key.read_bytes() == pem  # never replaced

    archive = make_archive(container, admin)
    old = add_document(container, admin, archive, "voucher", tmp_path / "f", document_date=OLD)
    rescan = docs.write_text_pdf([["记账凭证 voucher rescan"]], tmp_path / "rescan.pdf")
    versions.add_version(container, admin.id, old, rescan, "rescan.pdf", reason="better scan")
    document = document_row(container, old)
    process_document(container, document.id)
    with container.database.session() as session:
        rows = session.scalars(
            select(DocumentVersion).where(DocumentVersion.document_id == document.id)
        ).all()
        objects = {
            value
            for row in rows
            for value in (row.original_object_id, row.text_object_id, row.rendition_object_id)
            if value
        }
        current = session.get(Document, document.id)
        objects |= {
            v
            for v in (
                current.original_object_id,
                current.text_object_id,
                current.rendition_object_id,
            )
            if v
        }
    storage_id = _storage_id(container, old)
    assert len(objects) >= 5 and all(container.store.exists(storage_id, o) for o in objects)

    report = _run(container, people["c3"], _approved_batch(container, people))
    assert report.destroyed == [old] and report.objects_shredded == len(objects)
    assert not any(container.store.exists(storage_id, o) for o in objects)
    with container.database.session() as session:
        for row in session.scalars(
            select(DocumentVersion).where(DocumentVersion.document_id == document.id)
        ):
            assert row.original_object_id is None and row.sha256 is None
            assert row.text_object_id is None and row.rendition_object_id is None
