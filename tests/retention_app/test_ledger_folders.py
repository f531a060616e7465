"""The destruction ledger is written, in the instance folder and in ARCHIVE_LEDGER_DIR,
before anything is shredded: a second copy that cannot be written, or that holds another
ledger, stops the destruction with nothing destroyed and nothing decided."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import DestructionPlan, DispositionBatch, Document, User
from archive_app.services.retention import batches, certificate_files, destruction, ledger
from archive_app.services.retention.errors import LedgerDiverged, LedgerUnwritable
from tests.retention_app.conftest import add_document, make_archive

OLD = date(1990, 3, 5)


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


def _run(settings: Settings, actor: User, number: str) -> destruction.RunReport:
    container = Container.from_settings(settings)
    try:
        with container.database.session() as session:
            return destruction.run_batch(container, session, actor, number)
    finally:
        container.close()


def _untouched(container: Container, number: str, batch: str) -> None:
    """Nothing decided, nothing destroyed, nothing in the ledger."""
    with container.database.session() as session:
        document = session.scalar(select(Document).where(Document.number == number))
        assert document is not None
        assert document.destroyed_at is None and document.destruction_plan_id is None
        storage_id, object_id = document.archive.storage_id, document.original_object_id
        assert container.store.verify_object(storage_id, object_id) == document.sha256
        assert session.scalar(select(func.count()).select_from(DestructionPlan)) == 0
        state = session.scalar(
            select(DispositionBatch.state).where(DispositionBatch.number == batch)
        )
        assert state == "approved"
    assert not list(ledger.instance_folder(container.settings).glob("*.json"))


def test_the_second_copy_must_be_written_before_anything_is_destroyed(
    container: Container,
    admin: User,
    people: dict[str, User],
    settings: Settings,
    tmp_path: Path,
) -> None:
    archive = make_archive(container, admin)
    old = add_document(container, admin, archive, "voucher", tmp_path / "f", document_date=OLD)
    number = _approved_batch(container, people)

    # A second copy that cannot be created (its parent is a file): refused, naming it.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    unwritable = settings.with_overrides(ledger_dir=blocker / "ledger")
    with pytest.raises(LedgerUnwritable, match=re.escape(str(blocker / "ledger"))):
        _run(unwritable, people["c3"], number)
    _untouched(container, old, number)

    # A second copy that holds another ledger's first entry: refused as well.
    foreign = tmp_path / "foreign-ledger"
    foreign.mkdir()
    (foreign / ledger.entry_name(1)).write_bytes(b'{"another": "ledger"}')
    with pytest.raises(LedgerDiverged, match=r"00000001\.json"):
        _run(settings.with_overrides(ledger_dir=foreign), people["c3"], number)
    _untouched(container, old, number)

    # Once the folder is right, the destruction goes ahead and both copies hold the entry.
    offsite = tmp_path / "offsite-ledger"
    report = _run(settings.with_overrides(ledger_dir=offsite), people["c3"], number)
    assert report.destroyed == [old]
    home_entry = ledger.instance_folder(settings) / ledger.entry_name(1)
    assert home_entry.read_bytes() == (offsite / ledger.entry_name(1)).read_bytes()
    public = certificate_files.instance_public_key(settings)
    assert public is not None
    [entry] = ledger.read_folder(offsite, public)
    assert [r["document"] for r in entry.payload["plan"]["records"]] == [old]
    assert entry.payload["certificate"] == report.certificate_path.read_text()
