"""API tokens: created with the CLI and on the account page, shown once, stored hashed,
used, expired, revoked, dead with a deactivated user; and no session cookie on /api/v1."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select, update

from archive_app.models import ApiToken, AuditEntry
from archive_app.models.base import utcnow
from archive_app.services import api_tokens, bootstrap, users
from tests.api.conftest import ApiInstance
from tests.app.helpers import csrf_token, login
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD


def _status(api: ApiInstance, token: str) -> int:
    response = api.client().get(
        f"/api/v1/archives/{api.archive}", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code


def test_cli_life_cycle(api: ApiInstance, cli_on) -> None:
    created = cli_on(api, "tokens", "create", "staff", "--name", "CRM", "--expires", "30", "--json")
    assert created.returncode == 0, created.stderr
    document = json.loads(created.stdout)
    token = document["token"]
    assert document["user"] == "staff" and document["live"] and document["expires_at"]
    with api.container.database.session() as session:
        row = session.get(ApiToken, document["id"])
        assert row is not None and token not in (row.token_sha256, row.prefix)
    assert _status(api, token) == 200

    listed = json.loads(cli_on(api, "tokens", "list", "staff", "--json").stdout)
    assert document["id"] in [item["id"] for item in listed]
    assert token not in cli_on(api, "tokens", "list", "staff").stdout
    # Without a user: every token the actor may manage (the admin: everyone's; staff: own).
    everyone = json.loads(cli_on(api, "tokens", "list", "--json").stdout)
    assert {"staff", "admin", "archivist"} <= {item["user"] for item in everyone}
    own = json.loads(cli_on(api, "tokens", "list", "--as", "staff", "--json").stdout)
    assert {item["user"] for item in own} == {"staff"}

    # A staff member may not mint a token for someone else (nor see theirs).
    refused = cli_on(api, "tokens", "create", "admin", "--name", "x", "--as", "staff")
    assert refused.returncode != 0 and "may not" in refused.stderr

    with api.container.database.session() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == document["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert _status(api, token) == 401

    plain = cli_on(api, "tokens", "create", "staff", "--name", "ERP")
    fresh = plain.stdout.strip()
    assert _status(api, fresh) == 200
    fresh_id = json.loads(cli_on(api, "tokens", "list", "staff", "--json").stdout)[0]["id"]
    assert cli_on(api, "tokens", "revoke", str(fresh_id)).returncode == 0
    assert _status(api, fresh) == 401
    assert _status(api, "arc_made-up") == 401

    # Refused tokens are in the trail like failed logins (never the token itself).
    with api.container.database.session() as session:
        failed = [
            (entry.object_id, entry.after["reason"])
            for entry in session.scalars(
                select(AuditEntry).where(AuditEntry.action == "user.login_failed")
            )
        ]
    assert ("staff", f"expired API token {document['id']}") in failed
    assert ("staff", f"revoked API token {fresh_id}") in failed
    assert ("(api token)", "unknown API token") in failed


def test_deactivated_user_token_is_dead(api: ApiInstance) -> None:
    with api.container.database.session() as session:
        admin = bootstrap.get_admin(session)
        users.create_user(session, admin, username="leaver", role="staff", password=USER_PASSWORD)
        owner = users.get_user(session, "leaver")
        _row, token = api_tokens.create(session, owner, "leaver", "laptop script")
    assert _status(api, token) == 200
    with api.container.database.session() as session:
        users.update_user(session, bootstrap.get_admin(session), "leaver", active=False)
    assert _status(api, token) == 401


def test_account_page_creates_shows_once_and_revokes(api: ApiInstance) -> None:
    client = api.client()
    assert login(client, "auditor", USER_PASSWORD).status_code == 302
    page = client.post(
        "/account/tokens",
        data={
            "name": "BI export",
            "expires": "7",
            "csrf_token": csrf_token(client, "/account/tokens"),
        },
    )
    assert page.status_code == 200
    token = re.search(r"<code[^>]*>(arc_[^<]+)</code>", page.get_data(as_text=True)).group(1)
    assert _status(api, token) == 200
    again = client.get("/account/tokens").get_data(as_text=True)
    assert "BI export" in again and token not in again
    with api.container.database.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.name == "BI export"))
        assert row is not None
        token_id = row.id
    revoked = client.post(
        f"/account/tokens/{token_id}/revoke",
        data={"csrf_token": csrf_token(client, "/account/tokens")},
    )
    assert revoked.status_code == 302
    assert _status(api, token) == 401


def test_logged_in_browser_cookie_gets_401(api: ApiInstance) -> None:
    """A browser session (even an admin's) opens nothing on /api/v1: a page of another
    site cannot ride on it, so the API needs no CSRF token."""
    client = api.client()
    assert login(client, "admin", ADMIN_PASSWORD).status_code == 302
    assert client.get("/dashboard").status_code == 200
    for method, path in (
        ("GET", f"/api/v1/archives/{api.archive}"),
        ("POST", "/api/v1/archives"),
        ("GET", "/api/v1/search?q=x"),
    ):
        response = client.open(path, method=method, json={"name": "csrf"})
        assert response.status_code == 401, (path, response.status_code)
        assert response.mimetype == "application/problem+json"
    # A cookie beside a valid token changes nothing either way: the token decides.
    assert client.get("/api/v1/retention/plan", headers=api.headers("staff")).status_code == 403


def test_garbage_tokens(api: ApiInstance) -> None:
    for header in (
        "Bearer",
        "Bearer arc_nope",
        "Basic YWRtaW46eA==",
        f"Token {api.tokens['admin']}",
    ):
        response = api.client().get("/api/v1/archives", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_token_acts_with_its_users_clearance(api: ApiInstance) -> None:
    """A public-cleared user's token sees neither the internal archive nor its documents,
    and is told they do not exist (as on the pages)."""
    with api.container.database.session() as session:
        admin = bootstrap.get_admin(session)
        users.create_user(
            session,
            admin,
            username="temp",
            role="staff",
            password=USER_PASSWORD,
            clearance="public",
        )
        owner = users.get_user(session, "temp")
        _row, token = api_tokens.create(session, owner, "temp", "kiosk")
    headers = {"Authorization": f"Bearer {token}"}
    client = api.client()
    assert client.get(f"/api/v1/archives/{api.archive}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/documents/{api.document}", headers=headers).status_code == 404
    # Other tests of this package may have made public archives: only those are listed.
    listed = client.get("/api/v1/archives?per_page=100", headers=headers).get_json()["items"]
    assert {item["level"] for item in listed} <= {"public"}
    found = client.get("/api/v1/search?q=penalty", headers=headers).get_json()
    assert api.archive not in {hit["archive"] for hit in found["hits"]}
    assert api.archive not in found["facets"]["archive"]
