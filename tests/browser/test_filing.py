"""In a real browser, with a real worker: an archivist uploads a scan on the upload page,
waits for OCR, fixes the suggested metadata, submits the checklist line; a second
archivist opens it from the review queue and confirms it beside its scan; the record shows
as filed."""

from __future__ import annotations

import re

import pytest

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.services import archives
from archive_app.services.archives import ArchiveInput
from tests import documents as docs
from tests.conftest import USER_PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page, username: str) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(USER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_upload_fix_submit_and_confirm_from_the_review_queue(
    page, browser, live_server: str, instance_settings: Settings, admin, make_user, worker, tmp_path
) -> None:
    from playwright.sync_api import expect

    docs.require_cjk_font()
    make_user("li.na", "archivist")
    make_user("wang.fang", "archivist")
    container = Container.from_settings(instance_settings)
    try:
        with container.database.session() as session:
            number = archives.create_archive(
                session,
                admin,
                ArchiveInput(name="上海明远贸易有限公司"),
                number_pattern="KH-{seq:06d}",
                on_created=container.on_archive_created,
            ).number
    finally:
        container.close()
    scan = docs.write_png(docs.render_page(docs.INVOICE_LINES), tmp_path / "发票.png")

    # The archivist uploads the scan and waits for OCR on the upload page.
    _log_in(page, "li.na")
    page.goto(f"/archives/{number}/upload")
    page.get_by_label("Document class for this batch").select_option("invoice")
    page.locator("#file-input").set_input_files(str(scan))
    page.get_by_role("button", name="Upload 1 file").click()
    row = page.locator("#upload-list tbody tr").first
    expect(row.locator(".status")).to_contain_text("Done", timeout=120_000)
    document_link = row.locator(".number a")
    document = document_link.inner_text()
    assert re.fullmatch(rf"{number}-FP-\d{{4}}-0001", document)
    document_link.click()

    # The line cannot go to review yet: the tax amount was not in the text.
    expect(page.locator("#checklist .checklist-state")).to_have_attribute("data-state", "draft")
    expect(page.locator("#checklist .checklist-missing")).to_contain_text("Tax: is missing")
    # The invoice code read from the scan is a suggestion until accepted.
    expect(page.get_by_label("Invoice code")).to_have_value("")
    page.get_by_role("button", name="Accept the suggestion for Invoice code").click()
    expect(page.get_by_label("Invoice code")).to_have_value("3100212130")
    page.get_by_label("Title").fill("增值税专用发票")
    page.get_by_label("Invoice number").fill("08741295")
    page.get_by_label("Invoice date").fill("2026-03-18")
    page.get_by_label("Amount").fill("10,619.47")
    page.get_by_label("Tax", exact=True).fill("1,380.53")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Changes saved.")
    expect(page.locator("#checklist .checklist-missing")).to_have_count(0)
    page.get_by_label("Room").fill("A301")
    page.get_by_label("Shelf").fill("3")
    page.get_by_label("Box").fill("12")
    page.get_by_label("Folder position").fill("5")
    page.get_by_role("button", name="Save location").click()
    expect(page.locator(".paper-location-current")).to_have_text("A301 / 3 / 12 / 5")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".alert-success")).to_contain_text("waiting for a second person")
    # The filer sees the line in the queue but cannot pick it.
    page.get_by_role("link", name="Review queue").click()
    expect(page.locator(f'tr[data-document="{document}"]')).to_be_visible()
    expect(page.locator('input[name="documents"]')).to_have_count(0)

    # A second archivist confirms it from the review queue.
    context = browser.new_context(base_url=live_server, locale="en-US")
    try:
        reviewer = context.new_page()
        reviewer.set_default_timeout(15_000)
        _log_in(reviewer, "wang.fang")
        reviewer.get_by_role("link", name="Review queue").click()
        # Bulk confirmation takes only lines opened beside their scan: no box to tick yet.
        expect(reviewer.get_by_label(f"Select {document}")).to_have_count(0)
        reviewer.get_by_role("link", name=f"Review {document} beside the scan").click()
        reviewer.get_by_role("button", name="Confirm and file").click()
        expect(reviewer.locator(".alert-success")).to_contain_text(
            f"{document} is confirmed and filed."
        )
        expect(reviewer.get_by_text("Nothing is waiting for review.")).to_be_visible()
    finally:
        context.close()

    # The record shows as filed, on its page and in the archive's checklist.
    page.goto(f"/documents/{document}")
    expect(page.locator("#checklist .checklist-state")).to_have_attribute("data-state", "filed")
    expect(page.locator("#checklist .declared")).to_be_visible()
    page.goto(f"/archives/{number}")
    line = page.locator(f'#checklist-section tr[data-document="{document}"]')
    expect(line.locator(".checklist-state")).to_have_text("Confirmed and filed")
    expect(line).to_contain_text("wang.fang")
