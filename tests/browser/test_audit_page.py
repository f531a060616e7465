"""In a real browser: an admin opens the audit trail, filters by action, sees the entry,
and downloads the filtered view as JSON Lines that verifies offline."""

from __future__ import annotations

import pytest

from archive_app.services.audit_export import verify_export
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_filter_the_audit_trail_and_download_an_export(page, tmp_path) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("link", name="Audit", exact=True).click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    page.get_by_label("Action").fill("user.login")
    page.get_by_role("button", name="Apply filters").click()

    rows = page.locator("#audit-entries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("user.login")
    expect(rows.first).to_contain_text("admin")
    expect(rows.first).to_contain_text("Done")

    with page.expect_download() as download_info:
        page.locator("#export-jsonl").click()
    target = tmp_path / "audit.jsonl"
    download_info.value.save_as(target)
    text = target.read_text(encoding="utf-8")
    assert text.count("\n") == 1 and '"action": "user.login"' in text
    report = verify_export(text)
    assert report.ok and report.verified == 1
