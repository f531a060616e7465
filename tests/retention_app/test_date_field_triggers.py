"""A record's own date field starts its rule's clock (a contract's end date), without a
separate event entry; an explicit event overrides it, and both are audited."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from archive_app.infra.container import Container
from archive_app.models import AuditEntry, User
from archive_app.services import archives
from archive_app.services import documents as document_service
from archive_app.services.archives import ArchiveInput
from archive_app.services.retention import events, planning
from archive_app.services.retention.facts import field_events
from tests.retention_app.conftest import add_document, make_archive


def _reason(container: Container, actor: User, number: str, as_of: date) -> str:
    with container.database.session() as session:
        plan = planning.make_plan(session, actor, as_of).plan
    return {d.record_id: d.reason.value for d in (*plan.eligible, *plan.not_eligible)}[number]


def test_a_contracts_end_date_starts_its_clock_and_an_event_overrides_it(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> None:
    archive = make_archive(container, admin)
    contract = add_document(
        container,
        admin,
        archive,
        "contract",
        tmp_path / "f",
        document_date=date(2000, 1, 1),
    )
    assert _reason(container, people["c1"], contract, date(2200, 1, 1)) == "EVENT_MISSING"
    with container.database.session() as session:
        # A declared record's metadata is amended by compliance.
        document_service.edit_document(
            session, people["c1"], contract, values={"end_date": "2010-06-30"}
        )
    # Ten years from the end date written in the contract's metadata.
    assert _reason(container, people["c1"], contract, date(2020, 6, 30)) == "PERIOD_RUNNING"
    assert _reason(container, people["c1"], contract, date(2020, 7, 1)) == "ELIGIBLE"
    # The contract was extended: an explicit event overrides the field.
    with container.database.session() as session:
        events.record_event(session, people["arch"], contract, "contract_end", "2015-12-31")
    assert _reason(container, people["c1"], contract, date(2020, 7, 1)) == "PERIOD_RUNNING"
    assert _reason(container, people["c1"], contract, date(2026, 1, 1)) == "ELIGIBLE"
    with container.database.session() as session:
        actions = [
            (e.action, e.after)
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.object_id == contract)
                .where(AuditEntry.action.in_(["document.amend_declared", "retention.event.record"]))
                .order_by(AuditEntry.seq)
            )
        ]
    assert actions == [
        ("document.amend_declared", {"field:end_date": "2010-06-30"}),
        ("retention.event.record", {"contract_end": "2015-12-31"}),
    ]


def test_date_fields_name_their_events() -> None:
    assert field_events(
        {"end_date": "2030-01-31", "scrapped_date": "2029-05-01", "counterparty": "x"}
    ) == {"contract_end": date(2030, 1, 31), "asset_scrapped": date(2029, 5, 1)}
    assert field_events({"end_date": "not a date"}) == {}
    assert field_events(None) == {}


def test_the_customers_relationship_end_starts_the_clock_and_an_event_overrides_it(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> None:
    number = make_archive(container, admin)
    record = add_document(
        container, admin, number, "personal", tmp_path / "p", document_date=date(2000, 1, 1)
    )
    assert _reason(container, people["c1"], record, date(2200, 1, 1)) == "EVENT_MISSING"
    with container.database.session() as session:
        archive = archives.get_visible(session, admin, number)
        values = {**archive.snapshot(), "relationship_end": "2020-03-31"}
        archives.update_archive(session, admin, number, ArchiveInput.from_mapping(values))
    # Three years (the personal-data period) from the end of the customer relationship.
    assert _reason(container, people["c1"], record, date(2023, 3, 31)) == "PERIOD_RUNNING"
    assert _reason(container, people["c1"], record, date(2023, 4, 1)) == "ELIGIBLE"
    with container.database.session() as session:
        events.record_event(session, people["arch"], record, "relationship_end", "2022-01-31")
    assert _reason(container, people["c1"], record, date(2023, 4, 1)) == "PERIOD_RUNNING"
    with container.database.session() as session:
        trail = [
            (e.action, e.after)
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.object_id.in_([number, record]))
                .where(AuditEntry.action.in_(["archive.update", "retention.event.record"]))
                .order_by(AuditEntry.seq)
            )
        ]
    assert trail == [
        ("archive.update", {"relationship_end": "2020-03-31"}),
        ("retention.event.record", {"relationship_end": "2022-01-31"}),
    ]
