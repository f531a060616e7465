"""``archive users set-password NAME --password-stdin [--as ADMIN] [--json]``: the acting
user's own password is changed, anybody else's reset (a change is due at their next
login); refusals exit 1 with one line, usage errors exit 2, and the permission is checked
before the password is read."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from archive_app.errors import AuthenticationFailed
from archive_app.infra.db import Database
from archive_app.models import LoginSession
from archive_app.services import login_sessions, users
from archive_app.services.users import authenticate
from tests.conftest import USER_PASSWORD

NEW_PASSWORD = "Lantern-over-the-harbour-9"


def _user(database: Database, username: str):
    with database.session() as session:
        return users.get_user(session, username)


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_an_admin_resets_another_users_password_from_stdin(
    cli, make_user, database: Database
) -> None:
    make_user("li", "archivist")
    with database.session() as session:
        login_sessions.start(session, users.get_user(session, "li"), lifetime=timedelta(hours=1))

    result = cli("users", "set-password", "li", "--password-stdin", "--json", stdin=NEW_PASSWORD)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"username": "li", "must_change_password": True}
    li = _user(database, "li")
    assert li.must_change_password is True
    with database.session() as session:
        assert authenticate(session, "li", NEW_PASSWORD).username == "li"
        still_open = session.scalars(
            select(LoginSession.id).where(
                LoginSession.user_id == li.id, LoginSession.ended_at.is_(None)
            )
        )
        assert list(still_open) == []


def test_setting_your_own_password_is_a_change_not_a_reset(cli, database: Database) -> None:
    result = cli("users", "set-password", "admin", "--password-stdin", stdin=NEW_PASSWORD + "\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "password of admin changed"
    assert _user(database, "admin").must_change_password is False
    with database.session() as session:
        assert authenticate(session, "admin", NEW_PASSWORD).username == "admin"


def test_a_weak_password_is_refused_on_one_line(cli, make_user, database: Database) -> None:
    make_user("li", "archivist")
    before = _user(database, "li").password_hash
    cases = {
        "short": "at least 12 characters",
        "li-is-my-name-2026": "must not contain the user name",
        "1qaz2wsx3edc": "most common passwords",
        "": "at least 12 characters",
    }
    for password, says in cases.items():
        result = cli("users", "set-password", "li", "--password-stdin", "--json", stdin=password)
        assert result.returncode == 1, (password, result.stderr)
        assert says in _one_line(result.stderr)
        assert result.stdout == ""
    assert _user(database, "li").password_hash == before


def test_the_permission_is_checked_before_the_password_is_read(
    cli, make_user, database: Database
) -> None:
    make_user("li", "archivist")
    make_user("wang", "staff")
    make_user("low-admin", "admin", "internal")
    make_user("secret-clerk", "archivist", "secret")
    before = {name: _user(database, name).password_hash for name in ("wang", "secret-clerk")}
    refusals = [
        (("wang", "--as", "li"), "user 'li' may not manage users"),
        (("secret-clerk", "--as", "low-admin"), "cleared above you"),
        (("nobody",), "user 'nobody' not found"),
    ]
    for args, says in refusals:
        # With --password-stdin nothing is read from standard input ...
        result = cli("users", "set-password", *args, "--password-stdin", stdin=NEW_PASSWORD)
        assert result.returncode == 1
        assert says in _one_line(result.stderr)
        assert sys.stdin.read() == NEW_PASSWORD
        # ... and without it nobody is prompted for a password.
        prompted = cli("users", "set-password", *args, stdin=NEW_PASSWORD + "\n" * 2)
        assert prompted.returncode == 1
        assert "Password" not in prompted.stdout + prompted.stderr
    assert {name: _user(database, name).password_hash for name in before} == before


def test_usage_errors_exit_2(cli) -> None:
    for args in (
        ("users", "set-password"),
        ("users", "set-password", "li", "--password-file", "x"),
    ):
        result = cli(*args, stdin=NEW_PASSWORD)
        assert result.returncode == 2, args
        assert _one_line(result.stderr).startswith("archive: ")


def test_a_non_admin_sets_their_own_password(cli, make_user, database: Database) -> None:
    make_user("li", "archivist")
    result = cli(
        "users", "set-password", "li", "--as", "li", "--password-stdin", stdin=NEW_PASSWORD
    )
    assert result.returncode == 0, result.stderr
    assert _user(database, "li").must_change_password is False
    with database.session() as session:
        assert authenticate(session, "li", NEW_PASSWORD).username == "li"
    with database.session() as session, pytest.raises(AuthenticationFailed):
        authenticate(session, "li", USER_PASSWORD)
