"""Accounts an attacker would try: an admin raising their own clearance (or an account of
theirs above it), and a session cookie copied before logout or deactivation."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from archive_app.errors import PermissionDenied, ValidationFailed
from archive_app.infra.db import Database
from archive_app.models import User
from archive_app.services import users
from tests.app.helpers import login, post_form
from tests.conftest import USER_PASSWORD


def _reload(database: Database, username: str) -> User:
    with database.session() as session:
        return users.get_user(session, username)


def test_an_admin_cannot_raise_their_own_clearance_or_role(
    client: FlaskClient, make_user, database: Database
) -> None:
    make_user("low-admin", "admin", "internal")
    make_user("secret-clerk", "archivist", "secret")
    make_user("clerk", "archivist", "public")
    assert login(client, "low-admin", USER_PASSWORD).status_code == 302
    page = "/admin/users/"
    own = post_form(
        client,
        "/admin/users/low-admin",
        {"role": "admin", "clearance": "secret", "active": "y"},
        page=page,
    )
    assert own.status_code == 302
    assert _reload(database, "low-admin").clearance.value == "internal"
    # Nor through an account they control: none is created or raised above their clearance.
    created = post_form(
        client,
        page,
        {"username": "alias", "role": "admin", "clearance": "secret", "password": "x" * 14},
        page=page,
    )
    assert created.status_code == 422
    assert "不能授予高于您本人的密级权限" in created.get_data(as_text=True)
    defaulted = post_form(
        client,
        page,
        {"username": "alias", "role": "compliance", "clearance": "", "password": "x" * 14},
        page=page,
    )
    assert defaulted.status_code == 422  # compliance defaults to secret
    raised = post_form(
        client,
        "/admin/users/clerk",
        {"role": "archivist", "clearance": "secret", "active": "y"},
        page=page,
    )
    assert raised.status_code == 302
    assert _reload(database, "clerk").clearance.value == "public"
    # An account cleared above the admin is out of their hands altogether.
    touched = post_form(
        client,
        "/admin/users/secret-clerk",
        {"role": "admin", "clearance": "secret", "active": "y"},
        page=page,
    )
    assert touched.status_code == 403
    assert _reload(database, "secret-clerk").role.value == "archivist"
    listing = client.get(page).get_data(as_text=True)
    assert 'action="/admin/users/secret-clerk"' not in listing
    assert 'action="/admin/users/low-admin"' not in listing
    assert 'action="/admin/users/clerk"' in listing


def test_the_rules_hold_in_the_service_for_every_front_end(make_user, database: Database) -> None:
    make_user("low-admin", "admin", "confidential")
    make_user("top", "auditor", "secret")
    with database.session() as session:
        actor = users.get_user(session, "low-admin")
        with pytest.raises(ValidationFailed) as own:
            users.update_user(session, actor, "low-admin", clearance="secret")
        assert "own clearance" in str(own.value)
        with pytest.raises(ValidationFailed):
            users.update_user(session, actor, "low-admin", role="auditor")
        with pytest.raises(PermissionDenied):
            users.update_user(session, actor, "top", active=False)
        with pytest.raises(ValidationFailed):
            users.create_user(
                session,
                actor,
                username="alias",
                role="staff",
                password="p" * 14,
                clearance="secret",
            )
        made = users.create_user(
            session, actor, username="ok", role="staff", password="p" * 14, clearance="internal"
        )
        assert made.clearance.value == "internal"


def test_a_cookie_copied_before_logout_is_refused_afterwards(
    app, client: FlaskClient, make_user
) -> None:
    make_user("li", "archivist")
    assert login(client, "li", USER_PASSWORD).status_code == 302
    cookie = client.get_cookie("archive_session")
    assert cookie is not None
    assert client.get("/archives").status_code == 200
    assert post_form(client, "/logout", {}).status_code == 302

    thief = app.test_client()
    thief.set_cookie("archive_session", cookie.value)
    refused = thief.get("/archives")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]


def test_deactivating_an_account_ends_its_open_sessions(
    app, admin_client: FlaskClient, make_user
) -> None:
    make_user("wang", "staff")
    client = app.test_client()
    assert login(client, "wang", USER_PASSWORD).status_code == 302
    assert client.get("/archives").status_code == 200
    response = post_form(
        admin_client,
        "/admin/users/wang",
        {"role": "staff", "clearance": "internal"},  # the box unticked: inactive
        page="/admin/users/",
    )
    assert response.status_code == 302
    refused = client.get("/archives")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
