"""The checklist in the services: lines on intake, the checks before review, four-eyes
confirmation (single and bulk), rejection, declaration and the rule for declared records."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive_app.errors import PermissionDenied
from archive_app.infra.container import Container
from archive_app.models import AuditEntry, ChecklistLine, Document, DocumentVersion, User
from archive_app.search import queries
from archive_app.search.queries import SearchParams
from archive_app.services import checklist, documents, locations
from archive_app.services.checklist import ChecklistIncomplete, SelfReviewRefused, WrongState
from archive_app.services.processing import process_document
from tests.checklist.conftest import CONTRACT_FIELDS


def _line(container: Container, number: str) -> ChecklistLine:
    with container.database.session() as session:
        line = session.scalars(
            select(ChecklistLine).join(Document).where(Document.number == number)
        ).one()
        session.expunge(line)
        return line


def test_a_draft_line_and_version_one_appear_on_intake(
    container: Container, archive_number: str, filer: User, ingest
) -> None:
    number = ingest(filer)
    with container.database.session() as session:
        _archive, views = checklist.list_lines(session, filer, archive_number)
        [view] = views
        row = checklist.line_as_dict(view)
        version = session.scalars(select(DocumentVersion)).one()
        assert version.version == 1 and version.original_filename == "合同1.pdf"
    assert row["document"] == number
    assert row["state"] == "draft"
    assert row["filer"] == "li.na"
    assert row["file"] == "合同1.pdf"
    assert row["class"] == "contract"
    assert row["pages"] == 1
    assert number in row["electronic_location"]
    assert row["paper_location"] == {"room": "", "shelf": "", "box": "", "position": ""}
    # Not processed yet, no title, nothing of the contract's metadata.
    assert [p["field"] for p in row["missing"]][:2] == ["status", "title"]


def test_missing_metadata_blocks_review_with_precise_messages(
    container: Container, filer: User, ingest, make_ready
) -> None:
    number = ingest(filer)
    with container.database.session() as session, pytest.raises(ChecklistIncomplete) as caught:
        checklist.submit(session, filer, number)
    assert "text extraction has not finished yet" in str(caught.value)

    make_ready(
        number,
        fields={
            "counterparty": "北京华信科技有限公司",
            "sign_date": "2026-03-05",
            "end_date": "2026-01-01",
            "amount": "12,000",
        },
    )
    with container.database.session() as session, pytest.raises(ChecklistIncomplete) as caught:
        checklist.submit(session, filer, number)
    problems = {p.field: (p.code, p.message) for p in caught.value.problems}
    assert problems == {
        "contract_number": ("missing", "is missing"),
        "end_date": ("order", "must be after the sign date 2026-03-05"),
    }
    assert str(caught.value) == (
        f"{number} cannot be submitted for review: contract_number: is missing; "
        "end_date: must be after the sign date 2026-03-05"
    )
    assert _line(container, number).state.value == "draft"

    make_ready(number, fields={"invoice_code": "31002"}, title="发票")
    with container.database.session() as session:
        documents.edit_document(session, filer, number, class_code="invoice")
    with container.database.session() as session, pytest.raises(ChecklistIncomplete) as caught:
        checklist.submit(session, filer, number)
    problems = {p.field: (p.code, p.message) for p in caught.value.problems}
    assert problems["invoice_code"] == ("invalid", "must be 10 or 12 digits")
    assert problems["invoice_number"] == ("missing", "is missing")


def test_four_eyes_confirmation_declares_the_record(
    container: Container, filer: User, reviewer: User, admin: User, ingest, make_ready
) -> None:
    number = ingest(filer)
    make_ready(number)
    with container.database.session() as session, pytest.raises(WrongState):
        checklist.confirm(session, reviewer, number)  # still a draft
    with container.database.session() as session:
        checklist.submit(session, filer, number)

    with container.database.session() as session, pytest.raises(SelfReviewRefused) as caught:
        checklist.confirm(session, filer, number)
    assert caught.value.http_status == 403
    assert "another archivist must confirm it" in str(caught.value)
    with container.database.session() as session, pytest.raises(SelfReviewRefused):
        checklist.reject(session, filer, number, "looks wrong")

    with container.database.session() as session:
        checklist.confirm(session, reviewer, number)
    line = _line(container, number)
    assert line.state.value == "filed"
    assert line.reviewer_id == reviewer.id
    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == number)).one()
        assert document.declared_at is not None
        assert document.declared_by_id == reviewer.id
        version = session.scalars(select(DocumentVersion)).one()
        assert version.confirmed_by_id == reviewer.id
        actions = list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == number))
        )
        assert "checklist.submit" in actions and "checklist.confirm" in actions


def test_staff_may_not_review(
    container: Container, filer: User, make_user, ingest, make_ready
) -> None:
    staff = make_user("staff.one", "staff")
    number = ingest(filer)
    make_ready(number)
    with container.database.session() as session:
        checklist.submit(session, filer, number)
    with container.database.session() as session, pytest.raises(PermissionDenied):
        checklist.confirm(session, staff, number)


def test_reject_sends_the_line_back_to_draft_with_the_reason(
    container: Container, filer: User, reviewer: User, ingest, make_ready
) -> None:
    number = ingest(filer)
    make_ready(number)
    with container.database.session() as session:
        checklist.submit(session, filer, number)
    with container.database.session() as session:
        checklist.reject(session, reviewer, number, "签订日期与原件不符")
    line = _line(container, number)
    assert line.state.value == "draft"
    assert line.rejection_reason == "签订日期与原件不符"
    with container.database.session() as session:
        checklist.submit(session, filer, number)
    assert _line(container, number).rejection_reason is None


def test_bulk_confirm_confirms_others_lines_and_reports_own(
    container: Container, filer: User, reviewer: User, ingest, make_ready
) -> None:
    by_filer = [ingest(filer) for _ in range(3)]
    by_reviewer = ingest(reviewer)
    for number in [*by_filer, by_reviewer]:
        make_ready(number)
    with container.database.session() as session:
        for number in by_filer:
            checklist.submit(session, filer, number)
        checklist.submit(session, reviewer, by_reviewer)
    with container.database.session() as session:
        outcome = checklist.confirm_many(session, reviewer, [*by_filer, by_reviewer])
    assert outcome.confirmed == by_filer
    assert list(outcome.refused) == [by_reviewer]
    assert "cannot review it" in outcome.refused[by_reviewer]
    assert [_line(container, n).state.value for n in by_filer] == ["filed"] * 3
    assert _line(container, by_reviewer).state.value == "awaiting_review"
    with container.database.session() as session:
        queue = checklist.review_queue(session, filer)
        assert [line.document.number for line in queue] == [by_reviewer]


def test_declared_metadata_needs_the_amending_role_and_is_audited(
    container: Container, filer: User, reviewer: User, compliance: User, ingest, make_ready
) -> None:
    number = ingest(filer)
    make_ready(number)
    with container.database.session() as session:
        checklist.submit(session, filer, number)
    with container.database.session() as session:
        checklist.confirm(session, reviewer, number)
    with container.database.session() as session, pytest.raises(PermissionDenied) as caught:
        documents.edit_document(session, filer, number, values={"amount": "1.00"})
    assert "change the metadata of a declared record" in str(caught.value)
    with container.database.session() as session:
        documents.edit_document(session, compliance, number, values={"amount": "130,000"})
    with container.database.session() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "document.amend_declared")
        ).one()
        assert entry.actor_name == "zhao.lei"
        assert entry.before == {"field:amount": "128000.00"}
        assert entry.after == {"field:amount": "130000.00"}
        document = session.scalars(select(Document).where(Document.number == number)).one()
        # Still declared, same number, same original.
        assert document.is_declared and document.version == 1
    assert _line(container, number).state.value == "filed"


def test_a_metadata_change_while_awaiting_review_withdraws_the_line(
    container: Container, filer: User, reviewer: User, ingest, make_ready
) -> None:
    number = ingest(filer)
    make_ready(number)
    with container.database.session() as session:
        checklist.submit(session, filer, number)
    with container.database.session() as session:
        documents.edit_document(session, filer, number, values={"amount": "99,000"})
    assert _line(container, number).state.value == "draft"
    with container.database.session() as session, pytest.raises(WrongState):
        checklist.confirm(session, reviewer, number)


def test_a_confirmed_line_shows_as_declared_in_search(
    container: Container, filer: User, reviewer: User, ingest
) -> None:
    number = ingest(filer, lines=["采购合同 Purchase agreement", "Late delivery incurs a penalty."])
    with container.database.session() as session:
        document_id = session.scalars(select(Document.id).where(Document.number == number)).one()
    process_document(container, document_id)  # the worker's step, in this process
    with container.database.session() as session:
        documents.edit_document(session, filer, number, title="采购合同", values=CONTRACT_FIELDS)
        locations.set_location(session, filer, number, room="A", shelf="3", box="12")
        checklist.submit(session, filer, number)

    def declared() -> list[str]:
        with container.database.session() as session:
            params = SearchParams.parse({"query": "delivery", "state": "declared"})
            outcome = queries.search(container, session, reviewer, params)
            return [hit.document for hit in outcome.hits]

    assert declared() == []
    with container.database.session() as session:
        checklist.confirm(session, reviewer, number)
    assert declared() == [number]
