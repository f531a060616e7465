"""Refusals and failed logins end up in the audit trail with their outcome, never with a
password, without breaking the hash chain, and an anonymous flood of failed logins grows
the trail by a bounded number of entries."""

from __future__ import annotations

import json
import re

from flask.testing import FlaskClient
from sqlalchemy import select

from archive_app.infra.db import Database
from archive_app.models import AuditEntry, User
from archive_app.services import archives, refusals
from archive_app.services.archives import ArchiveInput
from archive_app.services.audit import verify_chain
from tests.app.helpers import csrf_token, login
from tests.conftest import USER_PASSWORD


def _trail(database: Database, action: str) -> list[AuditEntry]:
    with database.session() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            )
        )


def _chain_ok(database: Database) -> None:
    with database.session() as session:
        report = verify_chain(session)
    assert report.ok, report


def test_a_web_403_is_recorded_as_refused(
    client: FlaskClient, make_user, database: Database
) -> None:
    make_user("clerk", "staff")
    assert login(client, "clerk", USER_PASSWORD).status_code == 302
    assert client.get("/audit?action=user.login").status_code == 403
    assert client.get("/admin/users/").status_code == 403
    refused = _trail(database, "access.refused")
    assert [(e.actor_name, e.outcome) for e in refused] == [("clerk", "refused")] * 2
    assert refused[0].actor_id is not None
    assert refused[0].object_type == "capability"
    assert refused[0].object_id == "read the audit trail"
    assert refused[0].after["where"] == "GET /audit"
    assert "may not read the audit trail" in refused[0].after["reason"]
    assert refused[1].after["where"] == "GET /admin/users/"
    _chain_ok(database)


def test_a_cli_refusal_is_recorded_and_still_one_line(cli, make_user, database: Database) -> None:
    make_user("clerk", "staff")
    result = cli("audit", "export", "--format", "csv", "-o", "never.csv", "--as", "clerk")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "may not" in result.stderr
    (entry,) = _trail(database, "access.refused")
    assert entry.actor_name == "clerk" and entry.outcome == "refused"
    assert entry.after["where"] == "archive audit export"
    listed = json.loads(cli("audit", "list", "--outcome", "refused", "--json").stdout)
    assert [e["actor"] for e in listed["entries"]] == ["clerk"]
    _chain_ok(database)


def test_an_archive_above_clearance_is_not_found_but_recorded(
    client: FlaskClient, make_user, admin: User, database: Database
) -> None:
    with database.session() as session:
        number = archives.create_archive(
            session,
            admin,
            ArchiveInput(name="机密客户", level="secret"),
            number_pattern="KH-{seq:06d}",
        ).number
    make_user("low", "archivist", "internal")
    assert login(client, "low", USER_PASSWORD).status_code == 302
    response = client.get(f"/archives/{number}")
    missing = client.get("/archives/KH-999999")
    assert response.status_code == missing.status_code == 404

    # The page says exactly what a missing archive's page says, apart from the number (and
    # the CSRF token, which is signed with the time of the request).
    def page(answer, shown: str) -> str:
        text = answer.get_data(as_text=True).replace(shown, "N")
        return re.sub(r'(name="csrf-token" content=")[^"]+"', r'\1"', text)

    assert page(response, number) == page(missing, "KH-999999")
    (entry,) = _trail(database, "access.refused")
    assert (entry.actor_name, entry.object_type, entry.object_id) == ("low", "archive", number)
    assert entry.after["reason"] == "above the user's clearance"


def test_failed_logins_are_recorded_with_reason_and_address_never_the_password(
    client: FlaskClient, make_user, admin: User, database: Database
) -> None:
    make_user("gone", "staff")
    with database.session() as session:
        from archive_app.services import users

        users.update_user(session, admin, "gone", active=False)
    secret = "correct-horse-battery-9"
    client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    login(client, "Nobody-Here", secret)
    login(client, "admin", secret)
    login(client, "gone", USER_PASSWORD)
    failed = _trail(database, "user.login_failed")
    assert [(e.object_id, e.after["reason"]) for e in failed] == [
        ("nobody-here", "unknown user"),
        ("admin", "wrong password"),
        ("gone", "account inactive"),
    ]
    assert {e.outcome for e in failed} == {"failed"}
    assert {e.actor_name for e in failed} == {"anonymous"}
    assert {e.after["remote_addr"] for e in failed} == {"203.0.113.7"}
    with database.session() as session:
        everything = session.scalars(select(AuditEntry)).all()
        dumped = json.dumps(
            [[e.before, e.after, e.object_id, e.actor_name] for e in everything],
            ensure_ascii=False,
        )
    assert secret not in dumped and USER_PASSWORD not in dumped
    _chain_ok(database)


def test_failed_logins_from_one_address_are_bounded(
    client: FlaskClient, database: Database
) -> None:
    client.environ_base["REMOTE_ADDR"] = "198.51.100.1"
    token = csrf_token(client)
    for attempt in range(refusals.PER_ADDRESS + 5):
        response = client.post(
            "/login",
            data={"username": f"guess{attempt}", "password": "x" * 12, "csrf_token": token},
        )
        assert response.status_code == 401
    recorded = _trail(database, "user.login_failed")
    assert len(recorded) == refusals.PER_ADDRESS
    assert recorded[-1].after.get("bounded") is True
    assert not any(e.after.get("bounded") for e in recorded[:-1])
    # Another address is still recorded: one sender cannot hide everyone else's attempts.
    client.environ_base["REMOTE_ADDR"] = "198.51.100.2"
    client.post("/login", data={"username": "admin", "password": "x" * 12, "csrf_token": token})
    assert _trail(database, "user.login_failed")[-1].after["remote_addr"] == "198.51.100.2"
    _chain_ok(database)


def test_failed_logins_overall_are_bounded_whatever_the_addresses(database: Database) -> None:
    with database.session() as session:
        written = [
            refusals.record_failed_login(
                session, "admin", "wrong password", f"10.0.{i // 250}.{i % 250}"
            )
            for i in range(refusals.OVERALL + 10)
        ]
    assert written.count(True) == refusals.OVERALL
    assert len(_trail(database, "user.login_failed")) == refusals.OVERALL
    assert _trail(database, "user.login_failed")[-1].after["bounded"] is True
    _chain_ok(database)


def test_a_refusal_shown_as_a_message_is_recorded_too(
    client: FlaskClient, make_user, database: Database
) -> None:
    """The retention pages answer a refusal with a message and a redirect, not a 403."""
    make_user("aud", "auditor")
    assert login(client, "aud", USER_PASSWORD).status_code == 302
    response = client.post(
        "/retention/holds",
        data={
            "name": "H1",
            "reason": "litigation",
            "archives": "KH-000001",
            "csrf_token": csrf_token(client, "/retention/holds"),
        },
    )
    assert response.status_code == 302
    (entry,) = _trail(database, "access.refused")
    assert (entry.actor_name, entry.outcome) == ("aud", "refused")
    assert entry.after["where"] == "POST /retention/holds"
    _chain_ok(database)
