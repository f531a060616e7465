"""In a real browser: an admin creates a document class with a choice field on the class
page, files a scan under it on the upload page (its number carries the class's number
code) and fills the new field on the document's page, then relabels and retires the field
(the document keeps its value, listed apart once saved under the new definition); the
page reads in Chinese too."""

from __future__ import annotations

import re

import pytest

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.services import archives, bootstrap
from archive_app.services.archives import ArchiveInput
from tests import documents as docs
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_create_a_class_with_a_field_and_file_under_it(
    page, browser, live_server: str, instance_settings: Settings, admin, tmp_path
) -> None:
    from playwright.sync_api import expect

    container = Container.from_settings(instance_settings)
    try:
        with container.database.session() as session:
            bootstrap.seed_retention_rules(session)
            number = archives.create_archive(
                session,
                admin,
                ArchiveInput(name="上海明远贸易有限公司"),
                number_pattern="KH-{seq:06d}",
                on_created=container.on_archive_created,
            ).number
    finally:
        container.close()
    scan = docs.write_text_pdf([["Lease agreement", "Floor 2, Building A"]], tmp_path / "租约.pdf")

    page.goto("/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Document classes").click()
    expect(page.locator('tr[data-class="bank_reconciliation"]')).to_contain_text(
        "Bank reconciliation"
    )

    # A new class, refused once for a number code already in use.
    page.get_by_label("Code", exact=True).fill("lease")
    page.get_by_label("Chinese name").fill("租赁合同")
    page.get_by_label("English name").fill("Lease")
    page.get_by_label("Number code").fill("HT")
    page.get_by_label("Retention rule").select_option("policy.contract")
    page.get_by_role("button", name="Create class").click()
    expect(page.locator(".invalid-feedback")).to_have_text("is already used by class contract")
    page.get_by_label("Number code").fill("ZP")
    page.get_by_role("button", name="Create class").click()
    expect(page.locator(".alert-success")).to_contain_text("Class Lease created.")

    page.get_by_label("Field name").fill("floor")
    page.get_by_label("Type").select_option("choice")
    page.get_by_label("Chinese label").fill("楼层")
    page.get_by_label("English label").fill("Floor")
    page.get_by_label("Choices").fill("1F, 2F")
    page.get_by_label("Required: the checklist asks for it").check()
    page.get_by_role("button", name="Add field").click()
    expect(page.locator('tr[data-field="floor"]')).to_contain_text("1F, 2F")

    # Filed under the new class: its number code is in the document number.
    page.goto(f"/archives/{number}/upload")
    page.get_by_label("Document class for this batch").select_option("lease")
    page.locator("#file-input").set_input_files(str(scan))
    page.get_by_role("button", name="Upload 1 file").click()
    link = page.locator("#upload-list tbody tr .number a").first
    expect(link).to_have_text(re.compile(rf"{number}-ZP-\d{{4}}-0001"))
    document_number = link.inner_text()
    link.click()
    floor = page.get_by_label("Floor")
    expect(floor.locator("option")).to_have_text(["—", "1F", "2F"])
    floor.select_option("2F")
    page.get_by_label("Title").fill("租赁合同")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Changes saved.")
    expect(page.get_by_label("Floor")).to_have_value("2F")
    expect(page.locator(".class-version")).to_contain_text(
        "Held to version 2 of the class definition (the current one)."
    )

    # The field is relabelled, then retired; the document keeps its value.
    page.goto("/admin/classes/lease")
    page.get_by_role("button", name="Edit Floor").click()
    editing = page.locator("#edit-field-floor")
    editing.get_by_label("English label").fill("Storey")
    editing.get_by_role("button", name="Save field").click()
    expect(page.locator(".alert-success")).to_contain_text("Field saved.")
    expect(page.locator('tr[data-field="floor"]')).to_contain_text("Storey")
    page.get_by_role("button", name="Edit Storey").click()
    page.get_by_role("button", name="Retire field Storey").click()
    expect(page.locator(".alert-dismissible")).to_contain_text("Field retired")
    expect(page.locator('tr[data-field="floor"]')).to_contain_text("Retired")
    page.goto(f"/documents/{document_number}")
    expect(page.locator(".class-version")).to_contain_text(
        "Held to version 2 of the class definition; saving moves it to the current version 4."
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Changes saved.")
    expect(page.get_by_label("Storey")).to_have_count(0)
    expect(page.locator(".retired-values")).to_contain_text("Storey")
    expect(page.locator(".retired-values")).to_contain_text("2F")

    # The same page in Chinese.
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    try:
        chinese = context.new_page()
        chinese.set_default_timeout(15_000)
        chinese.goto("/login")
        chinese.locator("#username").fill("admin")
        chinese.locator("#password").fill(ADMIN_PASSWORD)
        chinese.get_by_role("button", name="登录").click()
        chinese.goto("/admin/classes/lease")
        expect(chinese.get_by_role("heading", level=1)).to_contain_text("租赁合同")
        expect(chinese.locator('tr[data-field="floor"]')).to_contain_text("选项")
        expect(chinese.get_by_text("第4版")).to_be_visible()
    finally:
        context.close()
