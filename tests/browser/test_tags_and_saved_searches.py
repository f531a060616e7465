"""In a real browser, in English then in 中文: tag a document and write a note on its
page, filter the search by the tag, save the search (shared) and run it from the sidebar,
and change the ticked results together (bulk edit)."""

from __future__ import annotations

from datetime import date

import pytest

from archive_app.infra.container import Container
from archive_app.models import User
from tests.conftest import ADMIN_PASSWORD
from tests.retention_app.conftest import add_document, make_archive

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_tags_notes_saved_searches_and_bulk_edit(
    page, container: Container, admin: User, tmp_path
) -> None:
    from playwright.sync_api import expect

    archive = make_archive(container, admin)
    first, second = (
        add_document(
            container,
            admin,
            archive,
            "contract",
            tmp_path / key,
            document_date=date(2026, 3, 1),
            declared=False,
        )
        for key in ("a", "b")
    )
    page.goto("/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.goto(f"/documents/{first}")
    tags = page.locator("#tags-card")
    expect(tags).to_contain_text("No tags.")
    page.get_by_placeholder("Add tags, separated by commas").fill("urgent, 待补")
    tags.get_by_role("button", name="Add").click()
    expect(tags.locator(".document-tags li")).to_have_count(2)
    expect(tags).to_contain_text("urgent")
    page.get_by_label("Write a note").fill("Original is in the finance office")
    page.get_by_role("button", name="Add note").click()
    note = page.locator(".document-note")
    expect(note).to_contain_text("Original is in the finance office")
    expect(note).to_contain_text(admin.display_name)
    # Removing a tag.
    page.get_by_role("button", name="Remove tag 待补").click()
    expect(tags.locator(".document-tags li")).to_have_count(1)

    page.get_by_role("link", name="Search", exact=True).click()
    page.get_by_label("Tags", exact=True).fill("urgent")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".search-hit")).to_have_count(1)
    expect(page.locator(".search-hit")).to_have_attribute("data-document", first)
    page.get_by_label("Name of the search").fill("Urgent contracts")
    page.get_by_label("Share with every user").check()
    page.get_by_role("button", name="Save search").click()
    expect(page.locator(".saved-search-title")).to_have_text("· Urgent contracts")
    sidebar = page.locator(".saved-searches")
    expect(sidebar).to_contain_text("Urgent contracts")

    # Bulk edit: every contract, ticked, gets a tag.
    page.goto("/search?class=contract")
    expect(page.locator(".search-hit")).to_have_count(2)
    for checkbox in page.locator(".bulk-select").all():
        checkbox.check()
    page.get_by_label("Add tags", exact=True).fill("2026 audit")
    page.get_by_role("button", name="Apply to the ticked documents").click()
    expect(page.locator(".bulk-summary")).to_contain_text("2 changed")

    # In Chinese: the saved search from the sidebar now finds the tagged document only.
    page.goto("/dashboard")
    page.locator('button[data-language="zh_CN"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.locator(".saved-searches").get_by_role("link", name="Urgent contracts").click()
    expect(page.locator(".search-hit")).to_have_count(1)
    expect(page.get_by_label("标签", exact=True)).to_have_value("urgent")
    page.get_by_label("标签", exact=True).fill("2026 audit")
    page.get_by_role("button", name="应用筛选").click()
    expect(page.locator(".search-hit")).to_have_count(2)
    page.goto(f"/documents/{second}")
    expect(page.locator("#tags-card")).to_contain_text("2026 audit")
    expect(page.locator("#notes-card")).to_contain_text("暂无备注")
