"""Back up a populated instance and restore it into an empty one, within and across
SQLite and PostgreSQL: every row, every original byte, search, inspection, the audit
chain and the destruction certificate survive; the master key never enters the backup."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.infra.db import Database
from archive_app.models import AuditEntry, Document
from archive_app.services import archives, backup, users
from archive_app.services import documents as document_service
from archive_app.services.archives import ArchiveInput
from archive_app.services.audit import verify_chain
from archive_app.services.backup.manifest import read_manifest
from archive_app.services.backup.tables import application_tables
from archive_app.services.bootstrap import get_admin
from archive_app.services.inspection import inspect
from archive_app.services.retention import certificate_files
from storage import load_key_file
from tests.backup.conftest import Source, master_key_text, take_backup
from tests.retention_app.conftest import index_ids

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every application table, as the application reads it."""
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            return {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in application_tables()
            }
    finally:
        database.dispose()


def _check_restored(source: Source, target: Settings, before: dict[str, list[Any]]) -> None:
    after = dump(target.database_url)
    for name, rows in before.items():
        if name == "audit_head":
            continue  # moved on by the restore's own entry
        if name == "audit_entries":
            assert after[name][:-1] == rows
            continue
        assert after[name] == rows, name
    container = Container.from_settings(target)
    try:
        with container.database.session() as session:
            admin = get_admin(session)
            assert admin is not None
            last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
            assert last is not None and last.action == "instance.restore"
            assert last.actor_name == "admin"
            assert verify_chain(session).ok
            ids = sorted(
                str(i)
                for i in session.scalars(
                    select(Document.id).where(Document.number.in_(source.kept))
                )
            )
        for number, original in source.originals.items():
            with container.database.session() as session:
                handle = document_service.prepare_export(session, admin, number, "original")
            out = io.BytesIO()
            document_service.export_to(container, handle, out)
            assert out.getvalue() == original
        assert index_ids(container) == ids
        with container.database.session() as session:
            report = inspect(container, session, admin)
        assert report.clean, [f.as_dict() for f in report.findings]
        # The restored instance takes new work: ids continue after the restored ones
        # (PostgreSQL's sequences were moved on) and new archives get keys.
        with container.database.session() as session:
            users.create_user(
                session, admin, username="after-restore", role="staff", password="x" * 16
            )
            archive = archives.create_archive(
                session,
                admin,
                ArchiveInput(name="恢复后客户"),
                number_pattern="KH-{seq:06d}",
                on_created=container.on_archive_created,
            )
            assert archive.number not in {source.archive}
    finally:
        container.close()
    assert source.certificate is not None
    restored = certificate_files.certificates_dir(target) / source.certificate.name
    assert restored.read_bytes() == source.certificate.read_bytes()
    result = certificate_files.verify_bytes(
        restored.read_bytes(), certificate_files.instance_public_key(target)
    )
    assert result.ok and result.pinned, result.reason


def _check_no_secrets(folder: Path, settings: Settings) -> None:
    master = load_key_file(settings.resolved_master_key_file)
    secret_texts = [master_key_text(settings).encode(), settings.secret_key.encode()]
    manifest = read_manifest(folder)
    listed = {entry.path for entry in manifest.files} | {"manifest.json"}
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert on_disk == listed
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert master not in data, path
            assert not any(text in data for text in secret_texts), path
    assert not any(name.endswith(("master.key", "secret_key")) for name in on_disk)


@pytest.mark.parametrize(
    ("database_kind", "target_kind"),
    [
        ("sqlite", "sqlite"),
        ("sqlite", "postgresql"),
        ("postgresql", "sqlite"),
        ("postgresql", "postgresql"),
    ],
    indirect=["database_kind"],
)
def test_round_trip(
    source: Source, make_target, target_kind: str, tmp_path: Path, settings: Settings
) -> None:
    before = dump(settings.database_url)
    folder = tmp_path / "backup"
    report = take_backup(source.container, source.admin, folder)

    manifest = read_manifest(folder)
    assert manifest.dialect == settings.database_url.split(":")[0].split("+")[0]
    assert manifest.tables == {name: len(rows) for name, rows in before.items()}
    assert manifest.key_store["objects"] == 6  # two live documents, three objects each
    assert {"database.sqlite3", "keystore.sqlite3", "signing/certificate-signing.pem"} <= {
        entry.path for entry in manifest.files
    }
    assert report.as_dict()["files"] == len(manifest.files)
    _check_no_secrets(folder, settings)
    with source.container.database.session() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None and entry.action == "instance.backup"
        assert entry.object_id == manifest.backup_id

    target = make_target(target_kind)
    restored = backup.restore_backup(target, folder, "admin", ledger=settings.home / "ledger")
    assert restored.replayed == []  # the backup already holds the one destruction
    assert restored.indexed == len(source.kept)
    assert restored.objects == 6
    assert json.loads(json.dumps(restored.as_dict()))["backup_id"] == manifest.backup_id
    _check_restored(source, target, before)
