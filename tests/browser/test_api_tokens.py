"""In a real browser: a user makes an API token from the user menu, sees it once, calls
the API with it, reads the API docs (Swagger UI, under the strict Content-Security-Policy),
and revokes the token, after which the API refuses it."""

from __future__ import annotations

import pytest

from tests.conftest import USER_PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_make_use_read_docs_and_revoke_a_token(page, make_user, live_server: str) -> None:
    from playwright.sync_api import expect

    make_user("li", "archivist")
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if message.type == "error" else None
    )

    page.goto("/login")
    page.get_by_label("User name").fill("li")
    page.get_by_label("Password").fill(USER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="li", exact=True).click()
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Token name").fill("ERP connector")
    page.get_by_label("Expires after (days, empty for never)").fill("90")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token code").inner_text().strip()
    assert token.startswith("arc_")
    expect(page.get_by_role("cell", name="ERP connector")).to_be_visible()

    call = page.request.get(
        f"{live_server}/api/v1/archives", headers={"Authorization": f"Bearer {token}"}
    )
    assert call.status == 200 and call.json()["total"] == 0
    # The browser's own session cookie opens nothing on the API.
    assert page.request.get(f"{live_server}/api/v1/archives").status == 401

    page.get_by_role("link", name="API documentation").click()
    expect(page.get_by_text("/api/v1/archives/{number}/documents")).to_be_visible()
    assert not [text for text in blocked if "Content Security Policy" in text], blocked

    page.goto("/account/tokens")
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator(".alert-success")).to_contain_text("Token ERP connector revoked.")
    refused = page.request.get(
        f"{live_server}/api/v1/archives", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status == 401
