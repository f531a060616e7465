"""The audit trail is a hash chain: verify passes untouched and names the first broken
link after a row is edited, deleted (in the middle or at the end) or reordered."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from archive_app.infra.db import Database
from archive_app.models import AuditEntry, User
from archive_app.services import archives, audit
from archive_app.services.archives import ArchiveInput
from archive_app.services.audit import verify_chain


@pytest.fixture
def trail(database: Database, admin: User) -> int:
    """Five archives created, edited and viewed: a trail with a known shape."""
    with database.session() as session:
        for index in range(5):
            archives.create_archive(
                session, admin, ArchiveInput(name=f"客户{index}"), number_pattern="KH-{seq:06d}"
            )
        archives.update_archive(
            session, admin, "KH-000002", ArchiveInput(name="客户二", notes="搬迁")
        )
        archives.view_archive(session, admin, "KH-000003")
    with database.session() as session:
        report = verify_chain(session)
    assert report.ok, report
    return report.entries


def test_entries_record_actor_action_object_and_changes(database: Database, trail: int) -> None:
    with database.session() as session:
        update = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "archive.update")
        ).one()
        assert update.actor_name == "admin"
        assert update.object_type == "archive"
        assert update.object_id == "KH-000002"
        assert update.before == {"name": "客户1", "notes": ""}
        assert update.after == {"name": "客户二", "notes": "搬迁"}
        assert update.at.tzinfo is not None
        view = session.scalars(select(AuditEntry).where(AuditEntry.action == "archive.view")).one()
        assert view.object_id == "KH-000003"


def test_edited_row_is_detected(database: Database, trail: int) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_entries SET actor_name = 'mallory' WHERE action = 'archive.update'")
        )
    with database.session() as session:
        report = verify_chain(session)
        seq = session.scalar(select(AuditEntry.seq).where(AuditEntry.action == "archive.update"))
    assert not report.ok
    assert report.broken_at == seq
    assert "altered" in (report.problem or "")


def test_edited_values_are_detected(database: Database, trail: int) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_entries SET \"after\" = :after WHERE action = 'archive.update'"),
            {"after": '{"name": "客户二", "notes": "改过"}'},
        )
    with database.session() as session:
        assert not verify_chain(session).ok


def test_deleted_middle_row_is_detected(database: Database, trail: int) -> None:
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
    with database.session() as session:
        report = verify_chain(session)
    assert not report.ok
    assert report.broken_at == 3
    assert "missing" in (report.problem or "")


def test_deleted_last_row_is_detected(database: Database, trail: int) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM audit_entries WHERE seq = (SELECT MAX(seq) FROM audit_entries)")
        )
    with database.session() as session:
        report = verify_chain(session)
    assert not report.ok
    assert report.broken_at == trail


def test_reordered_rows_are_detected(database: Database, trail: int) -> None:
    # Swap the contents of entries 4 and 5 by renumbering them.
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET seq = -4 WHERE seq = 4"))
        connection.execute(text("UPDATE audit_entries SET seq = 4 WHERE seq = 5"))
        connection.execute(text("UPDATE audit_entries SET seq = 5 WHERE seq = -4"))
    with database.session() as session:
        report = verify_chain(session)
    assert not report.ok
    assert report.broken_at == 4


def test_appending_after_verification_keeps_the_chain(
    database: Database, admin: User, trail: int
) -> None:
    with database.session() as session:
        audit.record(session, admin, "test.extra", "thing", "1", after={"ok": True})
    with database.session() as session:
        report = verify_chain(session)
    assert report.ok
    assert report.entries == trail + 1


def test_bulk_append_continues_the_same_chain(database: Database, admin: User, trail: int) -> None:
    with database.session() as session:
        written = audit.record_many(
            session, admin, "test.bulk", "thing", [(str(i), {"n": i}) for i in range(2500)]
        )
        audit.record(session, admin, "test.after_bulk", "thing", "last")
    assert written == 2500
    with database.session() as session:
        report = verify_chain(session)
        assert report.ok, report
        assert report.entries == trail + 2501
        bulk = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "test.bulk").order_by(AuditEntry.seq)
        ).all()
        assert [entry.after for entry in bulk[:2]] == [{"n": 0}, {"n": 1}]
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE audit_entries SET object_id = 'x' WHERE action = 'test.bulk' AND object_id = '1200'"
            )
        )
    with database.session() as session:
        assert not verify_chain(session).ok
