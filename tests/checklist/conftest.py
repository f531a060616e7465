"""Fixtures for the filing checklist: an instance with an archive, two archivists and a
compliance officer, and helpers that take documents in through the real intake path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from archive_app.infra.container import Container
from archive_app.models import Document, DocumentStatus, User
from archive_app.services import archives
from archive_app.services.archives import ArchiveInput
from archive_app.services.intake import IntakeItem, take_in
from tests import documents as docs

CONTRACT_FIELDS = {
    "counterparty": "北京华信科技有限公司",
    "contract_number": "HT-2026-0315",
    "sign_date": "2026-03-05",
    "end_date": "2027-03-04",
    "amount": "128000.00",
}


@pytest.fixture
def archive_number(container: Container, admin: User) -> str:
    with container.database.session() as session:
        archive = archives.create_archive(
            session,
            admin,
            ArchiveInput(name="上海明远贸易有限公司", level="confidential"),
            number_pattern="KH-{seq:06d}",
            on_created=container.on_archive_created,
        )
        return archive.number


@pytest.fixture
def filer(make_user) -> User:
    return make_user("li.na", "archivist")


@pytest.fixture
def reviewer(make_user) -> User:
    return make_user("wang.fang", "archivist")


@pytest.fixture
def compliance(make_user) -> User:
    return make_user("zhao.lei", "compliance")


@pytest.fixture
def ingest(container: Container, archive_number: str, tmp_path: Path) -> Callable[..., str]:
    """Take a small born-digital PDF in as ``user``; returns the document number."""
    counter = iter(range(1, 1000))

    def _ingest(user: User, class_code: str = "contract", lines: list[str] | None = None) -> str:
        index = next(counter)
        path = docs.write_text_pdf(
            [lines or [f"Service Agreement {index}", "Late delivery incurs a penalty."]],
            tmp_path / f"scan-{index}.pdf",
        )
        [result] = take_in(
            container,
            user.id,
            archive_number,
            [IntakeItem(path, f"合同{index}.pdf")],
            default_class=class_code,
        )
        assert result.status == "queued", result
        assert result.document is not None
        return result.document

    return _ingest


@pytest.fixture
def make_ready(container: Container) -> Callable[..., None]:
    """Stand-in for the worker's result where a test is about the checklist, not OCR."""

    def _ready(
        number: str, *, title: str = "采购合同", fields: dict[str, str] | None = None
    ) -> None:
        with container.database.session() as session:
            document = session.scalars(select(Document).where(Document.number == number)).one()
            document.status = DocumentStatus.READY
            document.title = title
            document.fields = dict(CONTRACT_FIELDS if fields is None else fields)

    return _ready
