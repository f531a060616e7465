"""A prepared instance for the dashboard tests: documents in known classes, months and
states in an internal archive and a secret one, taken in through the intake service
(born-digital PDFs, never read: no OCR). What only time or people would do (a month
passing, extraction ending, the checklist confirmed) is written to the rows directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

from archive_app.infra.container import Container
from archive_app.models import ChecklistLine, ChecklistState, Document, DocumentStatus, User
from archive_app.models.base import utcnow
from archive_app.services import archives
from archive_app.services.archives import ArchiveInput
from archive_app.services.intake import IntakeItem, take_in
from tests import documents as docs


@dataclass(frozen=True)
class Prepared:
    internal: str  # archive numbers
    secret: str
    this_month: str  # "2026-12"
    last_month: str


def _month_back(today: date, months: int) -> datetime:
    year, month = today.year, today.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, 0, 0, 1, tzinfo=UTC)  # never after now


def add(
    container: Container,
    admin: User,
    archive: str,
    class_code: str,
    folder: Path,
    *,
    created: datetime,
    status: DocumentStatus = DocumentStatus.READY,
    checklist: ChecklistState = ChecklistState.DRAFT,
    located: bool = False,
    document_date: date | None = None,
) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = docs.write_text_pdf([[f"{class_code} {uuid4().hex}"]], folder / f"{uuid4().hex}.pdf")
    [result] = take_in(
        container,
        admin.id,
        archive,
        [IntakeItem(path=path, filename=path.name)],
        default_class=class_code,
    )
    assert result.document_id is not None, result
    with container.database.session() as session:
        document = session.get(Document, result.document_id)
        assert document is not None
        document.created_at = created
        document.status = status
        document.document_date = document_date
        line = session.query(ChecklistLine).filter_by(document_id=document.id).one()
        line.state = checklist
        if checklist is ChecklistState.AWAITING_REVIEW:
            line.submitted_at = created
        if checklist is ChecklistState.FILED:
            document.declared_at = created
            document.declared_by_id = admin.id
        if located:
            line.paper_room, line.paper_shelf, line.paper_box = "A1", "3", "12"
        return document.number


def _archive(container: Container, admin: User, name: str, level: str) -> str:
    with container.database.session() as session:
        return archives.create_archive(
            session,
            admin,
            ArchiveInput(name=name, level=level),
            number_pattern="KH-{seq:06d}",
            on_created=container.on_archive_created,
        ).number


def prepare(container: Container, admin: User, folder: Path) -> Prepared:
    """Internal archive: this month 2 invoices (one failed, one queued) and 1 contract
    (awaiting review); last month 1 contract (declared, located) and 1 invoice (declared,
    no paper location, falls due for appraisal next year); 13 months ago 1 invoice
    (declared, no location, due now). Secret archive: this month 1 invoice (processing,
    awaiting review, ...) and 1 declared invoice without a location, due next year."""
    today = utcnow().date()
    now, last, old = _month_back(today, 0), _month_back(today, 1), _month_back(today, 13)
    internal = _archive(container, admin, "上海明远贸易有限公司", "internal")
    secret = _archive(container, admin, "机密客户有限公司", "secret")
    # The invoice rule keeps 10 years from the end of the document's fiscal year: a
    # document of year Y may be destroyed from 1 January of Y + 11.
    next_year = date(today.year - 10, 6, 1)
    due_now = date(today.year - 12, 6, 1)
    add(container, admin, internal, "invoice", folder, created=now, status=DocumentStatus.FAILED)
    add(container, admin, internal, "invoice", folder, created=now, status=DocumentStatus.QUEUED)
    add(
        container,
        admin,
        internal,
        "contract",
        folder,
        created=now,
        checklist=ChecklistState.AWAITING_REVIEW,
    )
    add(
        container,
        admin,
        internal,
        "contract",
        folder,
        created=last,
        checklist=ChecklistState.FILED,
        located=True,
    )
    add(
        container,
        admin,
        internal,
        "invoice",
        folder,
        created=last,
        checklist=ChecklistState.FILED,
        document_date=next_year,
    )
    add(
        container,
        admin,
        internal,
        "invoice",
        folder,
        created=old,
        checklist=ChecklistState.FILED,
        document_date=due_now,
    )
    add(
        container,
        admin,
        secret,
        "invoice",
        folder,
        created=now,
        status=DocumentStatus.PROCESSING,
        checklist=ChecklistState.AWAITING_REVIEW,
    )
    add(
        container,
        admin,
        secret,
        "invoice",
        folder,
        created=now,
        checklist=ChecklistState.FILED,
        document_date=next_year,
    )
    return Prepared(internal, secret, now.strftime("%Y-%m"), last.strftime("%Y-%m"))
