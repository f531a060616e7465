"""Reminders: the periodic task writes one note per subject per day (its body run twice
changes nothing), addressed by capability and clearance; the bell in the header counts
what the user has not read, read per user through POST with CSRF; the notes are mailed to
a real SMTP server on a loopback port; a bad ``ARCHIVE_SMTP_URL`` stops the start.

The scene goes through the real services (archives, intake and processing of born-digital
PDFs, a destruction list reviewed and approved once). Two shortcuts write state the
covering tests reach otherwise: checklist lines put in the review queue days ago (the
checklist's tests cover submission), and a failed inspection run (the inspection's tests
cover a damaged object failing one).
"""

from __future__ import annotations

import email
import socket
from datetime import date, datetime, timedelta
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from sqlalchemy import func, select

from archive_app.errors import NotFound, PermissionDenied, SettingsError
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import (
    ChecklistLine,
    ChecklistState,
    Document,
    InspectionRun,
    InspectionState,
    InspectionTrigger,
    RetentionNotification,
    User,
)
from archive_app.models.base import utcnow
from archive_app.services import archives, notifications, users
from archive_app.services.archives import ArchiveInput
from archive_app.services.reminders import run_reminders
from archive_app.services.retention import batches
from archive_app.tasks import REMINDERS, beat_schedule
from tests.app.helpers import csrf_token, login
from tests.conftest import USER_PASSWORD
from tests.retention_app.conftest import add_document

DAY = timedelta(days=1)


def _archive(container: Container, admin: User, name: str, level: str) -> str:
    with container.database.session() as session:
        archive = archives.create_archive(
            session,
            admin,
            ArchiveInput(name=name, level=level),
            number_pattern="KH-{seq:06d}",
            on_created=container.on_archive_created,
        )
        return archive.number


def _waiting_since(container: Container, number: str, since: datetime) -> None:
    with container.database.session() as session:
        document = session.scalar(select(Document).where(Document.number == number))
        assert document is not None
        line = session.scalar(select(ChecklistLine).where(ChecklistLine.document_id == document.id))
        assert line is not None
        line.state = ChecklistState.AWAITING_REVIEW
        line.submitted_at = since
        line.submitted_by_id = line.filer_id


@pytest.fixture
def scene(container: Container, admin: User, make_user, tmp_path: Path) -> dict[str, object]:
    """An internal and a secret archive, each with a line in the review queue for five days
    (and the internal one with a line of yesterday, not yet due); a destruction list of
    the secret archive's old voucher with one approval of two; a failed inspection."""
    people = {
        "c1": make_user("comp1", "compliance"),
        "c2": make_user("comp2", "compliance"),
        "low": make_user("complow", "compliance", "internal"),
        "arch": make_user("arch", "archivist"),  # cleared for confidential
        "arch_secret": make_user("archsec", "archivist", "secret"),
        "staff": make_user("staff", "staff"),
        "admin": admin,
    }
    internal = _archive(container, admin, "上海明远贸易有限公司", "internal")
    secret = _archive(container, admin, "北京保密客户", "secret")
    now = utcnow()
    old_voucher = add_document(
        container, admin, secret, "voucher", tmp_path / "s", document_date=date(1990, 3, 5)
    )
    for number, since in (
        (
            add_document(
                container,
                admin,
                internal,
                "contract",
                tmp_path / "i",
                document_date=date(2024, 3, 5),
            ),
            now - 5 * DAY,
        ),
        (
            add_document(
                container,
                admin,
                internal,
                "contract",
                tmp_path / "j",
                document_date=date(2024, 3, 6),
            ),
            now - DAY,
        ),
        (old_voucher, now - 5 * DAY),
    ):
        _waiting_since(container, number, since)
    with container.database.session() as session:
        row, _ = batches.create(session, people["c1"], date.today(), required_approvals=2)
        batch = row.number
    with container.database.session() as session:
        batches.review(session, people["c1"], batch, None, "destroy")
    with container.database.session() as session:
        batches.approve(session, people["c1"], batch)
    with container.database.session() as session:
        run = InspectionRun(
            trigger=InspectionTrigger.MANUAL,
            state=InspectionState.FAILED,
            hostname="host",
            pid=1,
            started_at=now - DAY,
            finished_at=now - DAY,
            findings_count=1,
            counts={"damaged": 1},
        )
        session.add(run)
        session.flush()
        run_id = run.id
    return {"people": people, "internal": internal, "secret": secret, "batch": batch, "run": run_id}


def _subjects(container: Container, reader: User) -> set[tuple[str, str | None]]:
    with container.database.session() as session:
        return {(n.kind, n.subject) for n in notifications.list_notifications(session, reader)}


def _notes_per_day(container: Container) -> dict[tuple[date, str], int]:
    with container.database.session() as session:
        rows = session.execute(
            select(RetentionNotification.as_of, RetentionNotification.kind, func.count()).group_by(
                RetentionNotification.as_of, RetentionNotification.kind
            )
        )
        return {(as_of, kind): count for as_of, kind, count in rows}


def test_each_reminder_is_written_once_a_day_for_the_right_readers(
    container: Container, scene: dict
) -> None:
    people, batch, run_id = scene["people"], scene["batch"], scene["run"]
    assert beat_schedule(container.settings)["reminders"]["task"] == REMINDERS
    now = utcnow()
    first = run_reminders(container, now)
    again = run_reminders(container, now)  # the task's body twice on one day
    assert first.created == {"review": 2, "approval": 1, "inspection": 1}
    assert again.created == {"review": 0, "approval": 0, "inspection": 0}
    today = now.date()
    expected = {(today, "review"): 2, (today, "approval"): 1, (today, "inspection"): 1}
    expected[(today, "appraisal")] = 1
    assert _notes_per_day(container) == expected
    # The next day the subjects still waiting are reminded again, once.
    run_reminders(container, now + DAY)
    run_reminders(container, now + DAY)
    tomorrow = today + DAY
    assert {k: v for k, v in _notes_per_day(container).items() if k[0] == tomorrow} == {
        (tomorrow, "review"): 2,
        (tomorrow, "approval"): 1,
        (tomorrow, "inspection"): 1,
        (tomorrow, "appraisal"): 1,
    }

    internal, secret = f"archive:{scene['internal']}", f"archive:{scene['secret']}"
    approval, failed = f"batch:{batch}", f"run:{run_id}"
    # Reviewers get the review queue's reminders, within their clearance; never approvals.
    assert _subjects(container, people["arch"]) == {("review", internal)}
    assert _subjects(container, people["arch_secret"]) == {
        ("review", internal),
        ("review", secret),
    }
    # Approvers (compliance) get the list waiting for them, the failed inspection and the
    # appraisal; a compliance user not cleared for the list's secret record does not.
    assert _subjects(container, people["c2"]) == {
        ("approval", approval),
        ("inspection", failed),
        ("appraisal", "plan"),
    }
    assert _subjects(container, people["low"]) == {("inspection", failed), ("appraisal", "plan")}
    # Admins do not approve destructions.
    assert ("approval", approval) not in _subjects(container, people["admin"])
    with container.database.session() as session:
        assert notifications.unread_count(session, people["staff"]) == 0
        with pytest.raises(PermissionDenied):
            notifications.list_notifications(session, people["staff"])
        # Marking read a note out of sight is refused as not found: it reveals nothing.
        hidden = session.scalar(
            select(RetentionNotification.id).where(RetentionNotification.subject == approval)
        )
        with pytest.raises(NotFound):
            notifications.mark_read(session, people["low"], hidden)
        with pytest.raises(NotFound):
            notifications.mark_read(session, people["arch"], hidden)


def _bell(client: FlaskClient) -> str | None:
    page = client.get("/notifications")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="notification-bell"' in html
    start = html.find('id="unread-count">')
    return None if start < 0 else html[start + len('id="unread-count">') :].split("<", 1)[0]


def test_the_bell_counts_unread_notes_and_marking_read_is_per_user(
    container: Container, scene: dict, app, client: FlaskClient
) -> None:
    run_reminders(container)
    assert login(client, "comp2", USER_PASSWORD).status_code == 302
    assert _bell(client) == "3"
    html = client.get("/notifications").get_data(as_text=True)
    assert f'href="/retention/batches/{scene["batch"]}"' in html
    assert 'href="/inspection"' in html and "/retention/plan?as_of=" in html
    # Both languages (Chinese is the default).
    assert f"销毁清册 {scene['batch']} 等待审批（已 1 / 需 2）" in html
    assert "通知：3 条未读" in html
    client.post("/language/en", data={"csrf_token": csrf_token(client, "/notifications")})
    english = client.get("/notifications").get_data(as_text=True)
    assert f"Destruction list {scene['batch']} waits for approval (1 of 2)" in english
    assert "Notifications: 3 unread" in english
    with container.database.session() as session:
        note_id = session.scalar(
            select(RetentionNotification.id).where(
                RetentionNotification.subject == f"batch:{scene['batch']}"
            )
        )
    # Without the CSRF token nothing is marked.
    assert client.post(f"/notifications/{note_id}/read").status_code == 400
    assert _bell(client) == "3"
    token = csrf_token(client, "/notifications")
    response = client.post(f"/notifications/{note_id}/read", data={"csrf_token": token})
    assert response.status_code == 302
    assert _bell(client) == "2"
    assert client.post("/notifications/read", data={"csrf_token": token}).status_code == 302
    assert _bell(client) is None
    # Another approver's notes are still unread.
    with container.database.session() as session:
        assert notifications.unread_count(session, scene["people"]["c1"]) == 3

    # A user who reads no kind has no bell, and the page is refused.
    other = app.test_client()
    assert login(other, "staff", USER_PASSWORD).status_code == 302
    assert 'id="notification-bell"' not in other.get("/archives").get_data(as_text=True)
    assert other.get("/notifications").status_code == 403


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd calls it by name
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_reminders_are_mailed_once_to_readers_with_an_address(
    container: Container, scene: dict
) -> None:
    people = scene["people"]
    with container.database.session() as session:
        admin = session.get(User, people["admin"].id)
        for name, address in (("comp2", "comp2@example.test"), ("arch", "arch@example.test")):
            users.set_email(session, admin, name, address)
    inbox = _Inbox()
    port = _free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    mailing = Container.from_settings(
        container.settings.with_overrides(
            smtp_url=f"smtp://127.0.0.1:{port}", smtp_from="archive@example.test"
        )
    )
    try:
        first = run_reminders(mailing)
        run_reminders(mailing)  # each note is mailed once
    finally:
        server.stop()
        mailing.close()
    assert sorted(first.mailed) == ["arch@example.test", "comp2@example.test"]
    by_recipient = {tuple(to): message for to, message in inbox.messages}
    assert set(by_recipient) == {("arch@example.test",), ("comp2@example.test",)}
    approver = by_recipient[("comp2@example.test",)]
    assert approver["Subject"] == "[档案系统 Records Archive] 3 条提醒 / 3 reminder(s)"
    assert approver["From"] == "archive@example.test"
    body = approver.get_content()
    assert f"Destruction list {scene['batch']} waits for approval (1 of 2)" in body
    assert "The inspection found 1 problem" in body
    reviewer = by_recipient[("arch@example.test",)]
    assert reviewer["Subject"] == "[档案系统 Records Archive] 1 条提醒 / 1 reminder(s)"
    # The confidential-cleared archivist hears of the internal archive only.
    text = reviewer.get_content()
    assert scene["internal"] in text and scene["secret"] not in text


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("http://mail.example.test", "unsupported scheme"),
        ("smtp://mail.example.test:notaport", "port"),
        ("smtp://", "name the mail server"),
    ],
)
def test_a_bad_smtp_url_stops_the_start_naming_the_setting(
    value: str, fragment: str, tmp_path: Path
) -> None:
    env = {"ARCHIVE_HOME": str(tmp_path), "ARCHIVE_SMTP_FROM": "a@example.test"}
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**env, "ARCHIVE_SMTP_URL": value})
    assert "ARCHIVE_SMTP_URL" in str(caught.value) and fragment in str(caught.value)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"ARCHIVE_HOME": str(tmp_path), "ARCHIVE_SMTP_URL": "smtp://h:25"})
    assert "ARCHIVE_SMTP_FROM" in str(caught.value)


def test_the_start_stops_on_a_bad_smtp_url_with_one_line(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_SMTP_URL", "smtp://mail.example.test:99999")
    monkeypatch.setenv("ARCHIVE_SMTP_FROM", "archive@example.test")
    result = cli("archives", "list")
    assert result.returncode != 0 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "ARCHIVE_SMTP_URL" in line


def test_set_email_for_oneself_or_by_an_admin_only(cli, make_user) -> None:
    make_user("arch", "archivist")
    make_user("comp", "compliance")
    own = cli("users", "set-email", "arch", "arch@example.test", "--as", "arch", "--json")
    assert own.returncode == 0, own.stderr
    assert '"email": "arch@example.test"' in own.stdout
    # Another user's address is an admin's to set: an archivist redirecting compliance's
    # reminders to themselves is refused.
    refused = cli("users", "set-email", "comp", "arch@example.test", "--as", "arch")
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert cli("users", "set-email", "comp", "not-an-address", "--as", "admin").returncode != 0
    by_admin = cli("users", "set-email", "comp", "comp@example.test", "--as", "admin")
    assert by_admin.returncode == 0 and "comp@example.test" in by_admin.stdout
