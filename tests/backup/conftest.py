"""Fixtures for backup and restore: a populated source instance and empty targets.

The source is the shared ``settings`` instance (SQLite or PostgreSQL, see the top-level
conftest) with real documents: born-digital PDFs rendered by the tests, taken in and
processed in-process (original, text and rendition stored encrypted, then indexed), one of
them destroyed by a real destruction batch so a certificate exists. A target is a new
instance folder and an empty database (a new SQLite file, or a new PostgreSQL database)
configured with the source's master key through ``ARCHIVE_MASTER_KEY``, as an operator
restoring on a new machine would supply it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import Document, User
from archive_app.services import backup
from archive_app.services.retention import batches, destruction
from storage import encode_master_key, load_key_file
from tests.conftest import _database_url
from tests.retention_app.conftest import add_document, make_archive

OLD = date(1990, 3, 5)  # a voucher of 1990 is eligible for destruction since 2021
RECENT = date(2020, 6, 1)
_targets = itertools.count()


# The retention tests' container (retention rules seeded): a backup must carry a
# destruction batch and its certificate.


@dataclass
class Source:
    container: Container
    admin: User
    archive: str
    kept: list[str]  # document numbers that stay live
    destroyed: str
    originals: dict[str, bytes] = field(default_factory=dict)
    certificate: Path | None = None


def _original(container: Container, number: str) -> bytes:
    with container.database.session() as session:
        document = session.scalar(select(Document).where(Document.number == number))
        assert document is not None
        storage_id = document.archive.storage_id
        object_id = document.original_object_id
    return container.store.read_bytes(storage_id, object_id)


@pytest.fixture
def source(container: Container, admin: User, make_user, tmp_path: Path) -> Source:
    """Two live documents (one with an amount) and one destroyed by a certified batch."""
    compliance = [make_user(f"comp{i}", "compliance") for i in (1, 2, 3)]
    make_user("clerk", "archivist")
    archive = make_archive(container, admin)
    folder = tmp_path / "files"
    old = add_document(container, admin, archive, "voucher", folder, document_date=OLD)
    kept = [
        add_document(container, admin, archive, "voucher", folder, document_date=RECENT),
        add_document(container, admin, archive, "voucher", folder, document_date=RECENT),
    ]
    with container.database.session() as session:
        document = session.scalar(select(Document).where(Document.number == kept[1]))
        assert document is not None
        document.amount = Decimal("12345.67")
    with container.database.session() as session:
        row, _ = batches.create(session, compliance[0], date.today(), required_approvals=2)
        number = row.number
    with container.database.session() as session:
        batches.review(session, compliance[0], number, None, "destroy")
    for user in compliance[:2]:
        with container.database.session() as session:
            batches.approve(session, user, number)
    with container.database.session() as session:
        report = destruction.run_batch(container, session, compliance[2], number)
    result = Source(container, admin, archive, kept, old, certificate=report.certificate_path)
    result.originals = {n: _original(container, n) for n in kept}
    return result


def master_key_text(settings: Settings) -> str:
    return encode_master_key(load_key_file(settings.resolved_master_key_file))


@pytest.fixture
def make_target(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> Iterator[Callable[..., Settings]]:
    """``make_target(kind, master_key=None)``: settings of an empty instance, with the
    source's master key unless another (or ``""``: none at all) is given."""
    created: list[tuple[str, str]] = []

    def _make(kind: str = "sqlite", master_key: str | None = None) -> Settings:
        home = tmp_path / f"restored-{next(_targets)}"
        if kind == "sqlite":
            url = f"sqlite:///{home / 'archive.db'}"
        else:
            admin_url = request.getfixturevalue("postgres_admin_url")
            name = f"archive_restore_{os.getpid()}_{next(_targets)}"
            engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            engine.dispose()
            created.append((admin_url, name))
            url = _database_url(admin_url, name)
        return Settings(
            home=home,
            database_url=url,
            secret_key="restored-secret-key-0123456789",
            master_key=master_key_text(settings) if master_key is None else master_key or None,
            ocr_workers=1,
        )

    yield _make
    for admin_url, name in created:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def take_backup(container: Container, actor: User, dest: Path) -> backup.BackupReport:
    with container.database.session() as session:
        return backup.create_backup(container, session, actor, dest)
