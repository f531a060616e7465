"""Property at the app level: whatever the records, events, holds and declarations, a
batch run destroys only records that were declared, unheld and past their period."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from archive_app.errors import Conflict
from archive_app.infra.container import Container
from archive_app.models import CustomerArchive, Document, DocumentClass, User
from archive_app.services.retention import batches, destruction, events, holds
from tests.retention_app.conftest import make_archive

# A fixed day, so the examples (and a failure's shrunk example) are the same on every run.
TODAY = date(2026, 6, 30)
record = st.fixed_dictionaries(
    {
        "class_code": st.sampled_from(["voucher", "contract", "personal", "other"]),
        "year": st.integers(1985, TODAY.year),
        "declared": st.booleans(),
        "event_year": st.none() | st.integers(1985, TODAY.year),
        "held": st.booleans(),
    }
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=st.lists(record, min_size=1, max_size=5))
def test_only_declared_unheld_expired_records_are_destroyed(
    container: Container, admin: User, people: dict[str, User], records: list[dict]
) -> None:
    archive_number = make_archive(container, admin, name=f"客户 {os.urandom(3).hex()}")
    expected: dict[str, bool] = {}
    with container.database.session() as session:
        classes = dict(session.execute(select(DocumentClass.code, DocumentClass.id)).all())
        archive = session.scalar(
            select(CustomerArchive).where(CustomerArchive.number == archive_number)
        )
        archive_id, storage_id = archive.id, archive.storage_id
        for index, spec in enumerate(records):
            content = os.urandom(64)
            stored = container.store.put(storage_id, content)
            number = f"{archive_number}-P-{index:03d}"
            session.add(
                Document(
                    number=number,
                    archive_id=archive_id,
                    class_id=classes[spec["class_code"]],
                    title=f"record {index}",
                    original_filename=f"{index}.pdf",
                    mime_type="application/pdf",
                    size_bytes=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    original_object_id=stored.object_id,
                    fields={},
                    document_date=date(spec["year"], 6, 30),
                    declared_at=datetime(spec["year"], 7, 1, tzinfo=UTC)
                    if spec["declared"]
                    else None,
                    created_by_id=admin.id,
                )
            )
            session.flush()
            event = {"contract": "contract_end", "personal": "relationship_end"}.get(
                spec["class_code"]
            )
            if event and spec["event_year"] is not None:
                events.record_event(session, admin, number, event, date(spec["event_year"], 6, 30))
            if spec["held"]:
                holds.create_hold(session, admin, f"hold {number}", "property", documents=[number])
            # Independent expectation from the shipped periods (not the engine's code).
            if spec["class_code"] == "voucher":
                due = date(spec["year"] + 1 + 30, 1, 1)
            elif spec["class_code"] == "contract" and spec["event_year"] is not None:
                due = date(spec["event_year"] + 10, 7, 1)
            elif spec["class_code"] == "personal" and spec["event_year"] is not None:
                due = date(spec["event_year"] + 3, 7, 1)
            else:
                due = None
            expected[number] = (
                spec["declared"] and not spec["held"] and due is not None and due <= TODAY
            )
    try:
        with container.database.session() as session:
            row, _ = batches.create(session, people["c1"], TODAY, required_approvals=2)
            number = row.number
            batches.review(session, people["c1"], number, None, "destroy")
            batches.approve(session, people["c1"], number)
            batches.approve(session, people["c2"], number)
    except Conflict:  # nothing eligible anywhere
        assert not any(expected.values())
        return
    with container.database.session() as session:
        destruction.run_batch(container, session, people["c3"], number, as_of=TODAY)
    with container.database.session() as session:
        destroyed = {
            d.number: d.destroyed_at is not None
            for d in session.scalars(select(Document).where(Document.archive_id == archive_id))
        }
    assert destroyed == expected
