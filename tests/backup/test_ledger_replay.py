"""Destructions outlive old backups: a restore of a backup taken before a destruction
replays the destruction ledger (from ARCHIVE_LEDGER_DIR or ``--ledger``), so what was
destroyed after the backup is shredded again and stubbed, with its destruction records
and certificate; without a ledger the restore is refused unless the operator says so,
and then the destroyed records come back. A ledger that does not verify or does not
belong to the backup is refused before anything is written."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from archive_app.domain.numbering import current_value
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.infra.db import Database
from archive_app.infra.vault import store_root
from archive_app.models import AuditEntry, DestructionCertificate, DestructionRecord, Document, User
from archive_app.services import backup
from archive_app.services import documents as document_service
from archive_app.services.audit_checkpoints import verify_trail
from archive_app.services.bootstrap import get_admin
from archive_app.services.inspection import inspect
from archive_app.services.retention import batches, destruction, ledger
from archive_app.services.retention.certificate_files import ensure_signing_key
from archive_app.services.retention.schedule import seed_rules
from retention import GENESIS, generate_private_key_pem, sign_entry
from storage import IntegrityError, load_key_file
from tests.backup.conftest import take_backup
from tests.retention_app.conftest import add_document, index_ids, make_archive
from tests.storage.conftest import all_keys, blob_path, decrypt_with

pytestmark = pytest.mark.slow

OLD = date(1990, 3, 5)  # eligible since 2021
RECENT = date(2020, 6, 1)


@pytest.fixture
def offsite(tmp_path: Path) -> Path:
    """ARCHIVE_LEDGER_DIR: the ledger's copy outside the instance folder."""
    return tmp_path / "offsite-ledger"


@pytest.fixture
def source(settings: Settings, database: Database, offsite: Path) -> Iterator[Container]:
    """An instance as `archive init` leaves it (rules, certificate key) with a second
    ledger copy."""
    with database.session() as session:
        seed_rules(session)
    ensure_signing_key(settings)
    container = Container.from_settings(settings.with_overrides(ledger_dir=offsite))
    yield container
    container.close()


def _destroy_old_records(container: Container, people: list[User]) -> str:
    with container.database.session() as session:
        row, _ = batches.create(session, people[0], date.today(), required_approvals=2)
        number = row.number
    with container.database.session() as session:
        batches.review(session, people[0], number, None, "destroy")
    for person in people[:2]:
        with container.database.session() as session:
            batches.approve(session, person, number)
    with container.database.session() as session:
        destruction.run_batch(container, session, people[2], number)
    return number


def _objects(container: Container, number: str) -> tuple[str, list[str], bytes]:
    """The record's store archive, objects and original, before it is destroyed."""
    with container.database.session() as session:
        document = session.scalar(select(Document).where(Document.number == number))
        assert document is not None
        storage_id = document.archive.storage_id
        objects = [
            o
            for o in (
                document.original_object_id,
                document.text_object_id,
                document.rendition_object_id,
            )
            if o
        ]
    return storage_id, objects, container.store.read_bytes(storage_id, objects[0])


def _export(container: Container, number: str) -> bytes:
    with container.database.session() as session:
        admin = get_admin(session)
        handle = document_service.prepare_export(session, admin, number, "original")
    out = io.BytesIO()
    document_service.export_to(container, handle, out)
    return out.getvalue()


def _restore_entry(container: Container) -> AuditEntry:
    with container.database.session() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "instance.restore"))
        assert entry is not None
        session.expunge(entry)
        return entry


def test_a_restore_replays_the_destructions_made_after_the_backup(
    source: Container,
    admin: User,
    make_user,
    make_target,
    database_kind: str,
    settings: Settings,
    offsite: Path,
    tmp_path: Path,
) -> None:
    people = [make_user(f"comp{i}", "compliance") for i in (1, 2, 3)]
    shared, emptied = make_archive(source, admin, "甲公司"), make_archive(source, admin, "乙公司")
    files = tmp_path / "files"
    old = add_document(source, admin, shared, "voucher", files, document_date=OLD)
    kept = add_document(source, admin, shared, "voucher", files, document_date=RECENT)
    alone = add_document(source, admin, emptied, "voucher", files, document_date=OLD)
    before = {number: _objects(source, number) for number in (old, kept, alone)}
    folder = tmp_path / "backup"
    take_backup(source, admin, folder)

    batch = _destroy_old_records(source, people)
    entry_name = ledger.entry_name(1)
    assert (offsite / entry_name).read_bytes() == (
        settings.home / "ledger" / entry_name
    ).read_bytes()
    with source.database.session() as session:
        certificate = session.scalar(select(DestructionCertificate.signed))

    # With the ledger (ARCHIVE_LEDGER_DIR, as on the machine that restores).
    target = make_target(database_kind).with_overrides(ledger_dir=offsite)
    report = backup.restore_backup(target, folder, "admin")
    assert report.ledger == offsite
    assert [(r["batch"], r["records"], r["records_in_backup"]) for r in report.replayed] == [
        (batch, 2, 2)
    ]
    restored = Container.from_settings(target)
    master = load_key_file(settings.resolved_master_key_file)
    live_keys = all_keys(store_root(target), master)
    try:
        with restored.database.session() as session:
            for number in (old, alone):
                document = session.scalar(select(Document).where(Document.number == number))
                assert document is not None and document.is_destroyed
                record = session.get(DestructionRecord, document.id)
                assert record is not None and record.certificate_id == f"CERT-{batch}"
            # The very certificate the source issued, back in the database and on disk.
            assert session.scalar(select(DestructionCertificate.signed)) == certificate
            assert current_value(session, f"disposition_batch:{date.today().year}") >= int(
                batch.rsplit("-", 1)[1]
            )
        assert (target.home / "certificates" / f"CERT-{batch}.json").read_text() == certificate
        # What the backup brought back of the destroyed records opens with no live key.
        for number in (old, alone):
            storage_id, objects, _original = before[number]
            for object_id in objects:
                copied = blob_path(folder, storage_id, object_id)
                assert copied.exists()
                for _name, key in live_keys:
                    with pytest.raises(IntegrityError):
                        decrypt_with(copied, key, storage_id, object_id)
                assert not restored.store.exists(storage_id, object_id)
        assert not restored.store.archive_exists(before[alone][0])
        assert _export(restored, kept) == before[kept][2]
        assert index_ids(restored) == [str(_document_id(restored, kept))]
        entry = _restore_entry(restored)
        assert entry.after is not None
        assert entry.after["ledger"] == str(offsite)
        assert [r["batch"] for r in entry.after["replayed"]] == [batch]
        with restored.database.session() as session:
            assert verify_trail(target, session).ok
            restoring_admin = get_admin(session)
        with restored.database.session() as session:
            inspection = inspect(restored, session, restoring_admin)
        assert inspection.clean, [f.as_dict() for f in inspection.findings]
        assert (target.home / "ledger" / entry_name).read_bytes() == (
            offsite / entry_name
        ).read_bytes()
    finally:
        restored.close()

    # Without it, and only because the operator said so: the destroyed records come back.
    bare = make_target(database_kind)
    plain = backup.restore_backup(bare, folder, "admin", without_ledger=True)
    assert plain.ledger is None and plain.replayed == []
    unreplayed = Container.from_settings(bare)
    try:
        assert _export(unreplayed, old) == before[old][2]
        after = _restore_entry(unreplayed).after
        assert after is not None and after["ledger"] is None and after["replayed"] == []
    finally:
        unreplayed.close()


def _document_id(container: Container, number: str) -> int:
    with container.database.session() as session:
        found = session.scalar(select(Document.id).where(Document.number == number))
        assert found is not None
        return found


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_a_ledger_that_is_missing_foreign_damaged_or_old_is_refused(
    source: Container,
    admin: User,
    make_user,
    make_target,
    offsite: Path,
    tmp_path: Path,
) -> None:
    people = [make_user(f"comp{i}", "compliance") for i in (1, 2, 3)]
    archive = make_archive(source, admin)
    add_document(source, admin, archive, "voucher", tmp_path / "f", document_date=OLD)
    _destroy_old_records(source, people)
    folder = tmp_path / "backup"
    take_backup(source, admin, folder)  # after the destruction: it holds ledger entry 1

    def refused(error: type[Exception], fragment: str, **options: object) -> None:
        target = make_target()
        with pytest.raises(error, match=fragment):
            backup.restore_backup(target, folder, "admin", **options)
        assert not target.home.exists()  # nothing written

    refused(backup.LedgerRequired, "ARCHIVE_LEDGER_DIR")
    refused(backup.LedgerRejected, "no such folder", ledger=tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    refused(backup.LedgerRejected, "older copy", ledger=empty)

    damaged = tmp_path / "damaged"
    shutil.copytree(offsite, damaged)
    entry = damaged / ledger.entry_name(1)
    entry.write_bytes(entry.read_bytes().replace(b'"destroy"', b'"kept"', 1))
    refused(backup.LedgerRejected, "signature", ledger=damaged)

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    forged = sign_entry(1, GENESIS, {"plan": {}}, generate_private_key_pem()).raw
    (foreign / ledger.entry_name(1)).write_bytes(forged)
    refused(backup.LedgerRejected, "another key", ledger=foreign)

    # The ledger itself restores: nothing to replay, the instance gets its copy.
    target = make_target()
    report = backup.restore_backup(target, folder, "admin", ledger=offsite)
    assert report.replayed == []
    assert (target.home / "ledger" / ledger.entry_name(1)).exists()
