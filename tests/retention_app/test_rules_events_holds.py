"""Rules in the database, trigger events and legal holds, through the services."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive_app.errors import PermissionDenied, ValidationFailed
from archive_app.infra.container import Container
from archive_app.models import (
    AuditEntry,
    DocumentClass,
    RetentionNotification,
    RetentionRuleVersion,
    User,
)
from archive_app.services import documents as document_service
from archive_app.services import notifications, versions
from archive_app.services.retention import appraisal, events, holds, planning, schedule
from archive_app.services.retention.errors import BelowMinimum, LegalHoldActive
from archive_app.services.retention.schedule import seed_rules
from tests import documents as docs
from tests.retention_app.conftest import add_document, make_archive


def _reasons(container: Container, actor: User, as_of: date) -> dict[str, str]:
    with container.database.session() as session:
        report = planning.make_plan(session, actor, as_of)
        return {
            d.record_id: d.reason.value for d in (*report.plan.eligible, *report.plan.not_eligible)
        }


def test_rules_are_seeded_once_mapped_to_classes_and_versioned(
    container: Container, people: dict[str, User]
) -> None:
    with container.database.session() as session:
        assert seed_rules(session) == []  # the fixture seeded them; a rerun adds nothing
        mapped = dict(
            session.execute(select(DocumentClass.code, DocumentClass.retention_rule)).all()
        )
        assert mapped["voucher"] == "acc.voucher"
        assert mapped["contract"] == "policy.contract"
        assert mapped["invoice"] == "tax.invoice"
        assert mapped["personal"] == "pipl.personal"
        with pytest.raises(BelowMinimum) as caught:
            schedule.change_rule(session, people["c1"], "acc.voucher", "10", "shorter")
        assert (caught.value.rule_code, caught.value.requested, caught.value.minimum) == (
            "acc.voucher",
            "10 years",
            "30 years",
        )
        with pytest.raises(ValidationFailed):
            schedule.change_rule(session, people["c1"], "acc.voucher", "40", " ")
        with pytest.raises(PermissionDenied):
            schedule.change_rule(session, people["arch"], "acc.voucher", "40", "longer")
        rule = schedule.change_rule(session, people["c1"], "acc.voucher", "40", "group policy")
        assert (rule.version, rule.period.years) == (2, 40)
    with container.database.session() as session:
        versions = session.scalars(
            select(RetentionRuleVersion.period)
            .where(RetentionRuleVersion.code == "acc.voucher")
            .order_by(RetentionRuleVersion.version)
        ).all()
        assert versions == ["30", "40"]
        assert schedule.current_rule_set(session).get("acc.voucher").period.years == 40
        entry = session.scalar(
            select(AuditEntry).where(AuditEntry.action == "retention.rule.change")
        )
        assert entry.actor_name == "comp1" and entry.after["reason"] == "group policy"


def test_event_triggered_record_is_never_eligible_before_its_event(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> None:
    archive = make_archive(container, admin)
    contract = add_document(
        container, admin, archive, "contract", tmp_path / "f", document_date=date(2000, 1, 1)
    )
    far_future = date(2200, 1, 1)
    assert _reasons(container, people["c1"], far_future)[contract] == "EVENT_MISSING"
    with container.database.session() as session:
        events.record_event(session, people["arch"], contract, "contract_end", "2010-06-30")
    assert _reasons(container, people["c1"], date(2020, 6, 30))[contract] == "PERIOD_RUNNING"
    assert _reasons(container, people["c1"], date(2020, 7, 1))[contract] == "ELIGIBLE"
    with container.database.session() as session:  # corrected: the old date is audited
        events.record_event(session, people["arch"], contract, "contract_end", "2019-12-31")
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "retention.event.record")
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert entry.before == {"contract_end": "2010-06-30"}
    assert _reasons(container, people["c1"], date(2020, 7, 1))[contract] == "PERIOD_RUNNING"
    with container.database.session() as session, pytest.raises(ValidationFailed):
        events.record_event(session, people["arch"], contract, "contract_end", "yesterday")


def test_holds_on_archives_and_records_block_changes_and_destruction(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> None:
    archive = make_archive(container, admin)
    old = add_document(
        container, admin, archive, "voucher", tmp_path / "f", document_date=date(1990, 3, 5)
    )
    today = date.today()
    assert _reasons(container, people["c1"], today)[old] == "ELIGIBLE"
    with container.database.session() as session:
        holds.create_hold(session, people["c1"], "审计-A", "tax audit", archives=[archive])
        holds.create_hold(session, people["c1"], "诉讼-B", "lawsuit", documents=[old])
    with container.database.session() as session:
        report = planning.make_plan(session, people["c1"], today)
        [decision] = report.plan.not_eligible
        assert decision.reason.value == "HELD" and decision.hold_ids == {"审计-A", "诉讼-B"}
        with pytest.raises(LegalHoldActive) as caught:
            document_service.edit_document(session, admin, old, title="x")
        assert caught.value.hold_ids == ("审计-A", "诉讼-B")
    corrected = docs.write_text_pdf([["corrected scan"]], tmp_path / "v2.pdf")
    with pytest.raises(LegalHoldActive):  # nor take a new version
        versions.add_version(container, admin.id, old, corrected, "v2.pdf", reason="rescan")
    with container.database.session() as session:
        with pytest.raises(ValidationFailed):
            holds.release_hold(session, people["c1"], "审计-A", "")
        holds.release_hold(session, people["c1"], "审计-A", "audit closed")
    assert _reasons(container, people["c1"], today)[old] == "HELD"  # still on 诉讼-B
    with container.database.session() as session:
        holds.release_hold(session, people["c1"], "诉讼-B", "settled")
        holds.flag_unsettled_claim(session, people["c1"], old, "loan to 明远, open")
    assert _reasons(container, people["c1"], today)[old] == "UNSETTLED_CLAIM"
    with container.database.session() as session, pytest.raises(LegalHoldActive):
        document_service.edit_document(session, admin, old, title="x")
    with container.database.session() as session:
        holds.settle_unsettled_claim(session, people["c1"], old, "repaid")
        document_service.edit_document(session, admin, old, title="记账凭证 1990-03")
    assert _reasons(container, people["c1"], today)[old] == "ELIGIBLE"
    with container.database.session() as session:
        listed = holds.list_holds(session, people["c1"]).holds
        assert {(h.name, h.release_reason) for h in listed} == {
            ("审计-A", "audit closed"),
            ("诉讼-B", "settled"),
        }


def test_appraisal_notifies_compliance_once_a_day_and_destroys_nothing(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> None:
    archive = make_archive(container, admin)
    add_document(
        container, admin, archive, "voucher", tmp_path / "f", document_date=date(1990, 3, 5)
    )
    add_document(
        container, admin, archive, "voucher", tmp_path / "f", document_date=date(2024, 3, 5)
    )
    note = appraisal.run_appraisal(container, date.today())
    again = appraisal.run_appraisal(container, date.today())
    assert note.id == again.id and note.eligible_count == 1
    # The engine's fiscal-year arithmetic as the app applies it: 2024-03-05 + 30 years.
    with container.database.session() as session:
        report = planning.compute_plan(session, date(2054, 12, 31))
        assert len(report.plan.eligible) == 1
        assert len(planning.compute_plan(session, date(2055, 1, 1)).plan.eligible) == 2
        assert notifications.unread_count(session, people["c2"]) == 1
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "document.destroy")
            )
            == 0
        )
        notes = notifications.list_notifications(session, people["c2"])
        assert [n.eligible_count for n in notes] == [1]


def test_the_scheduled_task_is_registered_and_runs_the_appraisal(container: Container) -> None:
    from archive_app.infra.workers import Registration
    from archive_app.tasks import RETENTION_APPRAISAL, make_celery
    from archive_app.tasks.worker import register_tasks

    app = make_celery(container.settings)
    assert app.conf.beat_schedule["retention-appraisal"]["task"] == RETENTION_APPRAISAL
    register_tasks(app, container, Registration(worker_id=0))  # registration is only read by OCR
    assert RETENTION_APPRAISAL in app.tasks
    # Celery keeps one task per name per process, so the body is called as the task does.
    appraisal.run_appraisal(container)
    appraisal.run_appraisal(container)  # idempotent: still one note today
    with container.database.session() as session:
        notes = session.scalars(select(RetentionNotification)).all()
        assert [(n.kind, n.as_of) for n in notes] == [("appraisal", date.today())]
