"""What backup and restore refuse, and that a refusal writes nothing; consistency when
the instance changes while a backup runs; a restore interrupted part-way can be re-run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from archive_app.errors import PermissionDenied
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.infra.db import Database
from archive_app.models import Document, User
from archive_app.services import backup
from archive_app.services.audit import verify_chain
from archive_app.services.backup.manifest import read_manifest
from archive_app.services.backup.tables import application_tables
from archive_app.services.users import get_user
from storage import encode_master_key, generate_master_key
from tests.backup.conftest import take_backup
from tests.retention_app.conftest import add_document, make_archive

RECENT = date(2020, 6, 1)

pytestmark = pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)


class Interrupted(Exception):
    """Stands for the operator's Ctrl+C or a crash in the middle of a restore."""


@pytest.fixture
def small(container: Container, admin: User, make_user, tmp_path: Path) -> Path:
    """A backup of an instance with one archive, one processed document and a clerk."""
    make_user("clerk", "archivist")
    archive = make_archive(container, admin)
    add_document(container, admin, archive, "voucher", tmp_path / "f", document_date=RECENT)
    folder = tmp_path / "backup"
    take_backup(container, admin, folder)
    return folder


def _nothing_written(target: Settings) -> None:
    assert not target.home.exists()


def test_restore_refuses_a_wrong_master_key(small: Path, make_target) -> None:
    target = make_target(master_key=encode_master_key(generate_master_key()))
    with pytest.raises(backup.RestoreKeyMismatch, match="master key"):
        backup.restore_backup(target, small, "admin", without_ledger=True)
    _nothing_written(target)


def test_restore_needs_the_master_key_supplied(small: Path, make_target) -> None:
    target = make_target(master_key="")  # neither the variable nor a key file
    with pytest.raises(backup.BackupError, match="no master key"):
        backup.restore_backup(target, small, "admin", without_ledger=True)
    _nothing_written(target)


@pytest.mark.parametrize("victim", ["blob", "database.sqlite3", "keystore.sqlite3"])
def test_restore_refuses_a_tampered_file(small: Path, make_target, victim: str) -> None:
    path = next((small / "blobs").rglob("*.blob")) if victim == "blob" else small / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    target = make_target()
    with pytest.raises(backup.BackupDamaged, match="SHA-256"):
        backup.restore_backup(target, small, "admin", without_ledger=True)
    _nothing_written(target)


def test_restore_refuses_a_missing_file(small: Path, make_target) -> None:
    next((small / "blobs").rglob("*.blob")).unlink()
    target = make_target()
    with pytest.raises(backup.BackupDamaged, match="missing"):
        backup.restore_backup(target, small, "admin", without_ledger=True)
    _nothing_written(target)


def test_restore_refuses_a_backup_without_manifest(small: Path, make_target) -> None:
    (small / "manifest.json").unlink()
    target = make_target()
    with pytest.raises(backup.BackupIncomplete, match="incomplete"):
        backup.restore_backup(target, small, "admin", without_ledger=True)
    _nothing_written(target)


def test_restore_refuses_a_non_empty_target(small: Path, settings: Settings) -> None:
    """The source itself (initialised, with data) is the non-empty target here."""
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            before = session.scalar(select(func.count()).select_from(Document))
        with pytest.raises(backup.TargetNotEmpty, match="already holds data"):
            backup.restore_backup(settings, small, "admin", without_ledger=True)
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Document)) == before
            assert verify_chain(session).ok
    finally:
        database.dispose()


@pytest.mark.parametrize("target_kind", ["sqlite", "postgresql"])
def test_restore_refuses_an_initialised_but_unused_instance(
    small: Path, make_target, target_kind: str
) -> None:
    from archive_app.services.initialise import initialise

    target = make_target(target_kind)
    initialise(target, admin_password="target-admin-password")
    with pytest.raises(backup.TargetNotEmpty):
        backup.restore_backup(target, small, "admin", without_ledger=True)


def test_restore_refuses_a_key_store_holding_other_keys(small: Path, make_target) -> None:
    from archive_app.infra import vault

    target = make_target()
    with vault.open_store(target, create=True) as store:
        store.create_archive("other-archive")
    with pytest.raises(backup.TargetNotEmpty, match="key store"):
        backup.restore_backup(target, small, "admin", without_ledger=True)
    assert not Path(target.database_url.removeprefix("sqlite:///")).exists()


def test_backup_refuses_a_non_empty_destination(
    container: Container, admin: User, tmp_path: Path
) -> None:
    dest = tmp_path / "occupied"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    with pytest.raises(backup.DestinationNotEmpty):
        take_backup(container, admin, dest)
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    # An empty folder is fine.
    empty = tmp_path / "empty"
    empty.mkdir()
    take_backup(container, admin, empty)
    assert (empty / "manifest.json").exists()


def test_backup_refuses_a_destination_inside_the_instance(
    container: Container, admin: User, settings: Settings
) -> None:
    dest = settings.home / "backups" / "today"
    with pytest.raises(backup.BackupError, match="inside the instance folder"):
        take_backup(container, admin, dest)
    assert not dest.exists()


def test_only_administrators_back_up_and_restore(
    small: Path, container: Container, make_target, tmp_path: Path
) -> None:
    with container.database.session() as session:
        clerk = get_user(session, "clerk")
    dest = tmp_path / "by-clerk"
    with pytest.raises(PermissionDenied):
        take_backup(container, clerk, dest)
    assert not dest.exists()
    target = make_target()
    with pytest.raises(PermissionDenied):
        backup.restore_backup(target, small, "clerk", without_ledger=True)
    _nothing_written(target)


def test_backup_abandoned_when_a_referenced_object_is_destroyed_meanwhile(
    container: Container, admin: User, tmp_path: Path
) -> None:
    archive = make_archive(container, admin)
    number = add_document(
        container, admin, archive, "voucher", tmp_path / "f", document_date=RECENT
    )
    with container.database.session() as session:
        document = session.scalar(select(Document).where(Document.number == number))
        assert document is not None
        storage_id, object_id = document.archive.storage_id, document.original_object_id

    def destroy_between_copies(phase: str, done: int, total: int | None) -> None:
        # Runs after the database copy and before the key-store copy: a destruction
        # (crypto-shred) landing exactly in that window.
        if phase == "copying keys" and done == 0:
            container.store.shred_object(storage_id, object_id)

    dest = tmp_path / "raced"
    with container.database.session() as session, pytest.raises(backup.BackupInconsistent):
        backup.create_backup(container, session, admin, dest, progress=destroy_between_copies)
    assert not dest.exists()


@pytest.mark.parametrize("target_kind", ["sqlite", "postgresql"])
def test_interrupted_restore_leaves_the_database_empty_and_can_be_rerun(
    small: Path, make_target, target_kind: str
) -> None:
    target = make_target(target_kind)

    def interrupt(phase: str, done: int, total: int | None) -> None:
        if phase == "loading database" and done > 0:
            raise Interrupted

    with pytest.raises(Interrupted):
        backup.restore_backup(target, small, "admin", without_ledger=True, progress=interrupt)
    database = Database(target.database_url)
    try:
        # Rolled back as one transaction, schema included.
        assert not set(inspect(database.engine).get_table_names()) & {
            table.name for table in application_tables()
        }
    finally:
        database.dispose()

    report = backup.restore_backup(target, small, "admin", without_ledger=True)
    assert report.blobs_installed == 0  # installed by the first attempt, recognised
    assert report.indexed == 1
    assert sum(report.tables.values()) == sum(read_manifest(small).tables.values())
