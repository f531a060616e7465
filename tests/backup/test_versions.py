"""A backup made by an older version (an older schema revision) restores: its rows load at
that revision, then the migrations bring the restored database to the newest one."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.pool import NullPool

from archive_app.infra import schema
from archive_app.infra.container import Container
from archive_app.models import Document, User
from archive_app.services import backup
from archive_app.services.audit import verify_chain
from archive_app.services.backup.database import open_copy
from archive_app.services.backup.manifest import (
    DATABASE_NAME,
    FileEntry,
    read_manifest,
    sha256_file,
    write_manifest,
)
from archive_app.services.backup.tables import application_tables, count_rows
from tests.backup.conftest import take_backup
from tests.retention_app.conftest import add_document, make_archive

OLDER = "0003"


def _as_older_version(folder: Path) -> None:
    """Turn a backup into one an older version would have made: schema at ``OLDER``."""
    engine = create_engine(f"sqlite:///{folder / DATABASE_NAME}", poolclass=NullPool)
    try:
        with engine.begin() as connection:
            config = schema.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, OLDER)
    finally:
        engine.dispose()
    manifest = read_manifest(folder)
    copy = open_copy(folder / DATABASE_NAME)
    try:
        with copy.connect() as connection:
            names = set(inspect(connection).get_table_names())
            manifest.tables = {
                table.name: count_rows(connection, table)
                for table in application_tables()
                if table.name in names
            }
    finally:
        copy.dispose()
    manifest.alembic_revision = OLDER
    manifest.files = [
        FileEntry(DATABASE_NAME, *sha256_file(folder / DATABASE_NAME))
        if entry.path == DATABASE_NAME
        else entry
        for entry in manifest.files
    ]
    (folder / "manifest.json").unlink()
    write_manifest(folder, manifest)


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_a_backup_of_an_older_schema_restores_and_is_migrated(
    container: Container, admin: User, make_target, tmp_path: Path
) -> None:
    archive = make_archive(container, admin)
    number = add_document(
        container, admin, archive, "voucher", tmp_path / "f", document_date=date(2020, 6, 1)
    )
    folder = tmp_path / "backup"
    take_backup(container, admin, folder)
    older = tmp_path / "older"
    shutil.copytree(folder, older)
    _as_older_version(older)
    assert "destruction_records" not in read_manifest(older).tables

    target = make_target()
    ledger = tmp_path / "ledger"  # the ledger of an instance that never destroyed anything
    ledger.mkdir()
    report = backup.restore_backup(target, older, "admin", ledger=ledger)
    assert report.indexed == 1
    restored = Container.from_settings(target)
    try:
        assert schema.is_up_to_date(restored.database.engine)
        with restored.database.session() as session:
            assert session.scalar(select(Document.number)) == number
            assert verify_chain(session).ok
    finally:
        restored.close()
