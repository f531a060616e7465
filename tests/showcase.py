"""A small instance holding a record in every state a page shows, built through the real
services: a draft, a filed record, one on legal hold, one destroyed by an executed
destruction list (with its certificate), one on a list still under review, and a
person's archive after an erasure request (a record restricted to compliance, one to be
destroyed), plus an inspection run. The page walk, the browser tests and the screenshot
script all start from it.

Users: ``admin`` and ``comp1``..``comp3`` (compliance) and ``arch`` (archivist), made by
the caller; compliance users prepare, approve and execute, as the four-eyes rules ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from archive_app.infra.container import Container
from archive_app.models import Document, User
from archive_app.services import archives
from archive_app.services.archives import ArchiveInput
from archive_app.services.inspection_runs import run_inspection
from archive_app.services.intake import IntakeItem, take_in
from archive_app.services.processing import process_document
from archive_app.services.retention import batches, destruction, erasure, holds
from tests import documents as docs
from tests.retention_app.conftest import declare

OLD = date(1990, 3, 5)
RECENT = date(2026, 5, 20)
HOLD_NAME = "LH-tax-audit-2026"


@dataclass(frozen=True)
class Showcase:
    archive: str
    person_archive: str
    draft: str
    filed: str
    held: str
    destroyed: str
    listed: str
    restricted: str
    executed_batch: str
    open_batch: str
    erasure_request: str


def _archive(container: Container, admin: User, name: str, customer_type: str) -> str:
    with container.database.session() as session:
        return archives.create_archive(
            session,
            admin,
            ArchiveInput(name=name, customer_type=customer_type),
            number_pattern="KH-{seq:06d}",
            on_created=container.on_archive_created,
        ).number


def build(container: Container, admin: User, people: dict[str, User], folder: Path) -> Showcase:
    c1, c2, c3 = people["c1"], people["c2"], people["c3"]
    company = _archive(container, admin, "上海明远贸易有限公司", "company")
    person = _archive(container, admin, "王小明", "person")

    folder.mkdir(parents=True, exist_ok=True)
    made = iter(range(1, 100))

    def document(archive: str, class_code: str, day: date, *, declared: bool = True) -> str:
        # Words of their own, not the class codes: the page walk looks for raw codes.
        n = next(made)
        path = docs.write_text_pdf(
            [[f"付款单据 第{n}号", f"Zahlungsbeleg {day.isoformat()} 金额 {n * 1000}.00"]],
            folder / f"scan-{n:02d}.pdf",
        )
        [result] = take_in(
            container,
            admin.id,
            archive,
            [IntakeItem(path=path, filename=path.name)],
            default_class=class_code,
        )
        assert result.document_id is not None, result
        process_document(container, result.document_id)
        with container.database.session() as session:
            row = session.get(Document, result.document_id)
            assert row is not None and row.rendition_object_id, row and row.failure_reason
            row.document_date = day
            if declared:
                declare(row, admin)
            return row.number

    destroyed = document(company, "voucher", OLD)
    listed = document(company, "voucher", OLD)
    held = document(company, "contract", RECENT)
    filed = document(company, "contract", RECENT)
    draft = document(company, "invoice", RECENT, declared=False)
    restricted = document(person, "voucher", RECENT)
    approvals = container.settings.retention_approvals
    with container.database.session() as session:
        holds.create_hold(session, c1, HOLD_NAME, "税务稽查", documents=[held])
    with container.database.session() as session:
        row, _batch = batches.create(
            session, c1, RECENT, required_approvals=approvals, documents=[destroyed]
        )
        executed = row.number
        batches.review(session, c1, executed, None, "destroy")
    for approver in (c1, c2)[:approvals]:
        with container.database.session() as session:
            batches.approve(session, approver, executed)
    with container.database.session() as session:
        destruction.run_batch(container, session, c3, executed)
    with container.database.session() as session:
        row, _batch = batches.create(
            session, c1, RECENT, required_approvals=approvals, documents=[listed]
        )
        open_batch = row.number
        batches.review(session, c1, open_batch, None, "destroy")
    with container.database.session() as session:
        request, _erasure_batch = erasure.request_erasure(
            session, c1, person, note="客户申请删除", required_approvals=approvals
        )
        request_number = request.number
    run_inspection(container, admin)
    return Showcase(
        archive=company,
        person_archive=person,
        draft=draft,
        filed=filed,
        held=held,
        destroyed=destroyed,
        listed=listed,
        restricted=restricted,
        executed_batch=executed,
        open_batch=open_batch,
        erasure_request=request_number,
    )
