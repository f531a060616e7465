"""A customer's erasure request: destroy at once what no law keeps (through the batch
machinery, with approvals), restrict the rest to storage, and report to the customer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from archive_app.errors import RecordRestricted
from archive_app.infra.container import Container
from archive_app.models import User
from archive_app.services import documents as document_service
from archive_app.services.retention import batches, destruction, erasure
from tests.retention_app.conftest import add_document, document_row, index_ids, make_archive


def test_erasure_request_flow(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> None:
    archive = make_archive(container, admin, name="张三")
    other = make_archive(container, admin, name="李四")
    personal = add_document(
        container, admin, archive, "personal", tmp_path / "f", document_date=date(2023, 5, 1)
    )
    voucher = add_document(
        container, admin, archive, "voucher", tmp_path / "f", document_date=date(2024, 3, 5)
    )
    contract = add_document(
        container, admin, archive, "contract", tmp_path / "f", document_date=date(2024, 1, 1)
    )
    neighbour = add_document(
        container, admin, other, "personal", tmp_path / "f", document_date=date(2023, 5, 1)
    )

    with container.database.session() as session:
        request, batch_row = erasure.request_erasure(
            session,
            people["c1"],
            archive,
            note="客户来函 2026-11-20",
            required_approvals=2,
        )
        number, batch = request.number, batch_row.number
        assert [i["record_id"] for i in batch_row.state_json["items"]] == [personal]
        report = request.report
        assert [e["document"] for e in report["pending_destruction"]] == [personal]
        kept = {e["document"]: e for e in report["kept_restricted"]}
        assert set(kept) == {voucher, contract}
        assert kept[voucher]["kept_until"] == "2055-01-01"  # the statutory minimum only
        assert kept[contract]["reason"] == "EVENT_MISSING"

    # What must be kept is restricted to storage: out of the search index, and nobody but
    # compliance may open it.
    assert index_ids(container) == [str(document_row(container, neighbour).id)]
    # ...and they stay out when the index is rebuilt or checked against the database.
    from archive_app.search import maintenance as search_maintenance

    search_maintenance.rebuild(container, people["c1"], restart=True)
    assert search_maintenance.check(container, people["c1"], repair=True).missing == []
    assert index_ids(container) == [str(document_row(container, neighbour).id)]
    with container.database.session() as session:
        with pytest.raises(RecordRestricted):
            document_service.view_document(session, people["arch"], voucher)
        with pytest.raises(RecordRestricted):
            document_service.prepare_export(session, admin, voucher, "original")
        assert document_service.view_document(session, people["c1"], voucher).number == voucher
        # Other customers' records are untouched.
        assert document_service.view_document(session, people["arch"], neighbour)

    # Nothing is destroyed without the approvals; then the same 监销 rules apply.
    with container.database.session() as session:
        batches.review(session, people["c1"], batch, None, "destroy")
        batches.approve(session, people["c1"], batch)
        batches.approve(session, people["c2"], batch)
    assert document_row(container, personal).destroyed_at is None
    with container.database.session() as session:
        run = destruction.run_batch(container, session, people["c3"], batch)
        assert run.destroyed == [personal]
    assert document_row(container, personal).destroyed_at is not None
    assert document_row(container, neighbour).destroyed_at is None

    with container.database.session() as session:
        final = erasure.erasure_report(session, people["c2"], number)
    assert [e["document"] for e in final["destroyed"]] == [personal]
    assert final["destroyed"][0]["certificate"] == run.certificate_id
    assert final["pending_destruction"] == []
    assert {e["document"] for e in final["kept_restricted"]} == {voucher, contract}
    assert final["completed_at"] is not None
