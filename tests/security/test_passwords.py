"""Passwords through the web, as a user and an attacker would try them: a change needs the
current password and a strong new one, a change or reset ends the other sessions (a copied
cookie stops working), an admin's reset forces a change at the next login, and an admin
cannot reset the password of an account cleared above them, nor their own."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive_app.domain.password_policy import common_passwords
from archive_app.errors import PermissionDenied
from archive_app.infra.db import Database
from archive_app.models import AuditEntry, User
from archive_app.services import passwords, users
from tests.app.helpers import csrf_token, login, post_form
from tests.conftest import USER_PASSWORD

NEW_PASSWORD = "Tea-kettle-on-the-stove-42"
PAGE = "/account/password"


def _reload(database: Database, username: str) -> User:
    with database.session() as session:
        return users.get_user(session, username)


def _change(client: FlaskClient, current: str, new: str, confirm: str | None = None):
    return post_form(
        client,
        PAGE,
        {"current_password": current, "password": new, "confirm": confirm or new},
        page=PAGE,
    )


def _audit(database: Database, action: str) -> list[AuditEntry]:
    with database.session() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            )
        )


def _english(client: FlaskClient) -> FlaskClient:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _logged_in(app: Flask, username: str, password: str) -> FlaskClient:
    client = _english(app.test_client())
    response = login(client, username, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def test_a_wrong_current_password_is_refused_and_the_attempt_recorded(
    app: Flask, make_user, database: Database
) -> None:
    make_user("li", "archivist")
    client = _logged_in(app, "li", USER_PASSWORD)
    before = _reload(database, "li").password_hash

    response = _change(client, "not-my-password-at-all", NEW_PASSWORD)

    assert response.status_code == 422
    assert "This is not your current password." in response.get_data(as_text=True)
    assert _reload(database, "li").password_hash == before
    failed = _audit(database, "password.change_failed")
    assert [(entry.object_id, entry.outcome) for entry in failed] == [("li", "failed")]
    assert _audit(database, "password.change") == []


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("short-pw-1", "at least 12 characters long"),
        ("my-name-is-LI-and-so-on", "must not contain your user name"),
        ("LI", "at least 12 characters long"),
        ("1q2w3e4r5t6y", "one of the most common passwords"),
        ("QWERTY123456", "one of the most common passwords"),
        (USER_PASSWORD, "must differ from the current one"),
    ],
)
def test_each_strength_rule_is_refused_with_its_message(
    app: Flask, make_user, database: Database, new: str, message: str
) -> None:
    make_user("li", "archivist")
    client = _logged_in(app, "li", USER_PASSWORD)
    before = _reload(database, "li").password_hash

    response = _change(client, USER_PASSWORD, new)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _reload(database, "li").password_hash == before
    assert login(app.test_client(), "li", USER_PASSWORD).status_code == 302


def test_the_messages_are_in_chinese_for_a_chinese_reader(app: Flask, make_user) -> None:
    make_user("li", "archivist")
    client = _logged_in(app, "li", USER_PASSWORD)
    token = csrf_token(client, PAGE)
    client.post("/language/zh_CN", data={"csrf_token": token, "next": PAGE})

    response = _change(client, "wrong-wrong-wrong", "li-short")

    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "当前密码不正确。" in text
    response = _change(client, USER_PASSWORD, "li-short")
    text = response.get_data(as_text=True)
    assert "新密码至少需要 12 个字符。" in text and "新密码不能包含您的用户名。" in text


def test_the_shipped_list_is_a_real_one() -> None:
    listed = common_passwords()
    assert len(listed) > 10_000
    assert {"password", "123456", "qwerty123456", "1qaz2wsx3edc"} <= listed


def test_after_a_change_other_sessions_end_and_a_copied_cookie_is_refused(
    app: Flask, make_user, database: Database
) -> None:
    make_user("li", "archivist")
    old = _logged_in(app, "li", USER_PASSWORD)
    cookie = old.get_cookie("archive_session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("archive_session", cookie.value)
    assert thief.get("/archives").status_code == 200

    current = _logged_in(app, "li", USER_PASSWORD)
    changed = _change(current, USER_PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 302

    for client in (old, thief):
        refused = client.get("/archives")
        assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    # The session the change was made in goes on.
    assert current.get("/archives").status_code == 200
    assert login(app.test_client(), "li", USER_PASSWORD).status_code == 401
    assert login(app.test_client(), "li", NEW_PASSWORD).status_code == 302

    [entry] = _audit(database, "password.change")
    assert entry.actor_name == "li"
    assert entry.after["sessions_ended"] == 1


def test_an_admin_reset_forces_a_change_at_the_next_login(
    app: Flask, admin_client: FlaskClient, make_user, database: Database
) -> None:
    make_user("li", "archivist")
    before_reset = _logged_in(app, "li", USER_PASSWORD)
    reset_to = "Given-by-the-admin-2026"
    _english(admin_client)

    page = admin_client.get("/admin/users/li")
    assert page.status_code == 200 and 'action="/admin/users/li/password"' in page.get_data(
        as_text=True
    )
    reset = post_form(
        admin_client,
        "/admin/users/li/password",
        {"password": reset_to, "confirm": reset_to},
        page="/admin/users/li",
    )
    assert reset.status_code == 302
    assert _reload(database, "li").must_change_password is True
    ended = before_reset.get("/archives")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]

    client = _logged_in(app, "li", reset_to)
    for address in ("/archives", "/", "/search", "/admin/users/"):
        forced = client.get(address)
        assert forced.status_code == 302, address
        assert forced.headers["Location"].endswith(PAGE), address
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "You must choose a new password before you continue" in page.get_data(as_text=True)
    # Keeping the password the admin chose is not a change.
    kept = _change(client, reset_to, reset_to)
    assert kept.status_code == 422 and _reload(database, "li").must_change_password

    assert _change(client, reset_to, NEW_PASSWORD).status_code == 302
    assert client.get("/archives").status_code == 200
    assert _reload(database, "li").must_change_password is False

    [reset_entry] = _audit(database, "password.reset")
    assert (reset_entry.actor_name, reset_entry.object_id) == ("admin", "li")
    [change_entry] = _audit(database, "password.change")
    assert change_entry.before == {"must_change_password": True}
    # No password, nor its hash, is ever written to the trail.
    hashes = _reload(database, "li").password_hash
    with database.session() as session:
        trail = " ".join(
            f"{row.before} {row.after}"
            for row in session.scalars(select(AuditEntry).where(AuditEntry.object_id == "li"))
        )
    for secret in (reset_to, NEW_PASSWORD, USER_PASSWORD, hashes, "$argon2"):
        assert secret not in trail


def test_logging_out_still_works_while_a_change_is_due(
    app: Flask, admin: User, make_user, database: Database
) -> None:
    make_user("li", "archivist")
    with database.session() as session:
        passwords.reset(session, users.get_user(session, "admin"), "li", new="Reset-by-admin-77")
    client = _logged_in(app, "li", "Reset-by-admin-77")
    out = post_form(client, "/logout", {}, page=PAGE)
    assert out.status_code == 302 and out.headers["Location"].endswith("/login")
    assert client.get("/archives").headers["Location"].startswith("/login")


def test_an_admin_cannot_reset_a_higher_cleared_user_nor_themselves(
    app: Flask, make_user, database: Database
) -> None:
    make_user("low-admin", "admin", "internal")
    make_user("secret-clerk", "archivist", "secret")
    client = _logged_in(app, "low-admin", USER_PASSWORD)
    before = _reload(database, "secret-clerk").password_hash

    page = client.get("/admin/users/secret-clerk")
    assert page.status_code == 200
    assert "/admin/users/secret-clerk/password" not in page.get_data(as_text=True)
    # Posting the form anyway is refused.
    attack = post_form(
        client,
        "/admin/users/secret-clerk/password",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        page="/admin/users/",
    )
    assert attack.status_code == 403
    assert _reload(database, "secret-clerk").password_hash == before
    assert _reload(database, "secret-clerk").must_change_password is False
    own = post_form(
        client,
        "/admin/users/low-admin/password",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        page="/admin/users/",
    )
    assert own.status_code == 403
    assert login(app.test_client(), "low-admin", USER_PASSWORD).status_code == 302

    with database.session() as session:
        actor = users.get_user(session, "low-admin")
        with pytest.raises(PermissionDenied, match="cleared above you"):
            passwords.reset(session, actor, "secret-clerk", new=NEW_PASSWORD)
        with pytest.raises(PermissionDenied, match="own password"):
            passwords.reset(session, actor, "low-admin", new=NEW_PASSWORD)


def test_a_non_admin_cannot_reset_anybody(app: Flask, make_user, database: Database) -> None:
    make_user("li", "archivist")
    make_user("wang", "staff")
    client = _logged_in(app, "li", USER_PASSWORD)
    attack = post_form(
        client,
        "/admin/users/wang/password",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        page=PAGE,
    )
    assert attack.status_code == 403
    assert login(app.test_client(), "wang", USER_PASSWORD).status_code == 302


def test_the_change_page_is_in_the_user_menu(admin_client: FlaskClient) -> None:
    page = _english(admin_client).get("/archives").get_data(as_text=True)
    menu = page[page.index('class="dropdown-menu') :]
    assert f'href="{PAGE}"' in menu and "Change password" in menu
