"""In a real browser: a user whose password an admin reset logs in, is held on the
change-password page until they choose a strong one, then changes it again from the user
menu."""

from __future__ import annotations

import re

import pytest

from archive_app.infra.db import Database
from archive_app.services import passwords, users

pytestmark = pytest.mark.browser

RESET_TO = "Reset-by-the-admin-2026"
CHOSEN = "Quiet-river-under-pines-8"
LATER = "Paper-lanterns-in-winter-3"


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_forced_change_after_login_then_a_change_from_the_user_menu(
    page, make_user, database: Database
) -> None:
    from playwright.sync_api import expect

    make_user("li", "archivist")
    with database.session() as session:
        passwords.reset(session, users.get_user(session, "admin"), "li", new=RESET_TO)

    page.goto("/login")
    page.get_by_label("User name").fill("li")
    page.get_by_label("Password").fill(RESET_TO)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/account/password$"))
    expect(page.locator("#password-change-required")).to_be_visible()

    # Every other page leads back here until the password is changed.
    page.goto("/archives")
    expect(page).to_have_url(re.compile(r"/account/password$"))

    page.get_by_label("Current password").fill(RESET_TO)
    page.get_by_label("New password", exact=True).fill("li-password-2026")
    page.get_by_label("New password again").fill("li-password-2026")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".invalid-feedback")).to_have_text(
        "The new password must not contain your user name."
    )

    page.get_by_label("Current password").fill(RESET_TO)
    page.get_by_label("New password", exact=True).fill(CHOSEN)
    page.get_by_label("New password again").fill(CHOSEN)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator(".alert-success")).to_contain_text("Your password has been changed")

    # Later, from the user menu in the header.
    page.get_by_role("button", name="li", exact=True).click()
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    expect(page.locator("#password-change-required")).to_have_count(0)
    page.get_by_label("Current password").fill(CHOSEN)
    page.get_by_label("New password", exact=True).fill(LATER)
    page.get_by_label("New password again").fill(LATER)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".alert-success")).to_contain_text("Your password has been changed")

    with database.session() as session:
        assert users.authenticate(session, "li", LATER).must_change_password is False
