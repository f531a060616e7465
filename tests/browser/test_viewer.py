"""In a real browser, in English and in Chinese: the scan of a document is seen on its page
(the page image really loads), its pages are turned through, a line of its text is marked on
the scan; a second archivist reviews the line beside the scan and confirms it with the
keyboard.

The two-page scan (an invoice, then a short note) goes through the real intake and the real
processing (OCR included) in this process; the archivist's corrections are written directly,
as the checklist's own browser test covers typing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from archive_app.infra.container import Container
from archive_app.models import Document, User
from archive_app.services import checklist
from archive_app.services.intake import IntakeItem, take_in
from archive_app.services.processing import process_document
from tests import documents as docs
from tests.conftest import USER_PASSWORD
from tests.retention_app.conftest import make_archive

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True),
]

WORDS = {
    "en-US": {
        "page_1": "Page 1 of 2",
        "page_2": "Page 2 of 2",
        "next": "Next page",
        "zoom_in": "Zoom in",
        "turn": "Turn right",
        "confirmed": "is confirmed and filed.",
        "empty": "Nothing is waiting for review.",
        "review": "Review {number} beside the scan",
    },
    "zh-CN": {
        "page_1": "第 1 页，共 2 页",
        "page_2": "第 2 页，共 2 页",
        "next": "下一页",
        "zoom_in": "放大",
        "turn": "向右旋转",
        "confirmed": "已复核确认并归档。",
        "empty": "没有待复核的清单行。",
        "review": "对照扫描件复核 {number}",
    },
}


@pytest.fixture
def submitted_scan(container: Container, admin: User, make_user, tmp_path: Path) -> dict[str, str]:
    """A processed two-page invoice scan whose line li.na filed and submitted."""
    docs.require_cjk_font()
    filer = make_user("li.na", "archivist")
    make_user("wang.fang", "archivist")
    archive = make_archive(container, admin)
    pages = [docs.render_page(docs.INVOICE_LINES), docs.render_page(["备注 Note", "第二页"])]
    scan = docs.write_scanned_pdf(pages, tmp_path / "发票.pdf")
    [result] = take_in(
        container, filer.id, archive, [IntakeItem(scan, scan.name)], default_class="invoice"
    )
    assert result.document_id is not None and result.document is not None, result
    process_document(container, result.document_id)
    with container.database.session() as session:
        document = session.get(Document, result.document_id)
        assert document is not None and document.status.value == "ready", document
        document.title = "增值税专用发票"
        document.fields = {
            "invoice_code": "3100212130",
            "invoice_number": "08741295",
            "invoice_date": "2026-03-18",
            "amount": "10619.47",
            "tax": "1380.53",
        }
    with container.database.session() as session:
        checklist.submit(session, filer, result.document)
    return {"archive": archive, "document": result.document}


def _log_in(page, username: str) -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(USER_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url("**/dashboard")


def _image_loaded(page, selector: str = "#viewer .viewer-image") -> None:
    page.wait_for_function(
        "(s) => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0; }",
        arg=selector,
    )


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_see_the_scan_turn_its_pages_and_mark_a_line(
    browser, live_server: str, submitted_scan: dict[str, str], locale: str
) -> None:
    from playwright.sync_api import expect

    words = WORDS[locale]
    number = submitted_scan["document"]
    context = browser.new_context(base_url=live_server, locale=locale)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        _log_in(page, "wang.fang")
        page.goto(f"/archives/{submitted_scan['archive']}")
        _image_loaded(page, ".document-thumbnail")

        page.goto(f"/documents/{number}")
        viewer = page.locator("#viewer")
        _image_loaded(page)
        expect(viewer.locator(".viewer-page-label")).to_have_text(words["page_1"])
        expect(viewer.locator(".viewer-image")).to_have_attribute("alt", words["page_1"])
        # A line of the OCR text is marked where it is on the scan.
        line = viewer.locator('.viewer-page-text[data-page="1"] .ocr-line', has_text="3100212130")
        line.click()
        highlight = viewer.locator(".viewer-highlight")
        expect(highlight).to_be_visible()
        box, sheet = highlight.bounding_box(), viewer.locator(".viewer-sheet").bounding_box()
        assert box and sheet and box["width"] > 0.2 * sheet["width"]
        assert sheet["y"] < box["y"] < sheet["y"] + sheet["height"] / 2  # in the upper half

        viewer.get_by_role("button", name=words["zoom_in"]).click()
        expect(viewer.locator(".viewer-zoom-label")).to_have_text("150%")
        upright = viewer.locator(".viewer-frame").bounding_box()
        viewer.get_by_role("button", name=words["turn"]).click()
        turned = viewer.locator(".viewer-frame").bounding_box()
        assert upright and turned  # the page lies on its side, still as wide as the zoom says
        assert turned["width"] == pytest.approx(upright["width"], abs=2)
        ratio = turned["height"] / turned["width"]
        assert ratio == pytest.approx(upright["width"] / upright["height"], rel=0.02)

        viewer.get_by_role("button", name=words["next"]).click()
        expect(viewer.locator(".viewer-page-label")).to_have_text(words["page_2"])
        expect(viewer.locator(".viewer-image")).to_have_attribute(
            "src", f"/documents/{number}/pages/2.png"
        )
        _image_loaded(page)
        expect(viewer.locator('.viewer-page-text[data-page="2"]')).to_be_visible()
        expect(viewer.locator('.viewer-page-text[data-page="1"]')).to_be_hidden()
        expect(viewer.get_by_role("button", name=words["next"])).to_be_disabled()
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_second_archivist_reviews_beside_the_scan_and_confirms_with_the_keyboard(
    browser, live_server: str, submitted_scan: dict[str, str], container: Container, locale: str
) -> None:
    from playwright.sync_api import expect

    words = WORDS[locale]
    number = submitted_scan["document"]
    context = browser.new_context(base_url=live_server, locale=locale)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        _log_in(page, "wang.fang")
        page.goto("/review")
        row = page.locator(f'tr[data-document="{number}"]')
        _image_loaded(page, f'tr[data-document="{number}"] .document-thumbnail')
        expect(row.locator('input[name="documents"]')).to_have_count(0)  # not opened yet
        row.get_by_role("link", name=words["review"].format(number=number)).click()

        _image_loaded(page)
        fields = page.locator(".review-fields")
        expect(fields.locator('tr[data-field="invoice_code"]')).to_contain_text("3100212130")
        fields.locator('tr[data-field="invoice_code"] .review-snippet').click()
        expect(page.locator("#viewer .viewer-highlight")).to_be_visible()
        expect(page.locator("#viewer .ocr-line.active")).to_contain_text("3100212130")

        page.locator("body").press("c")
        expect(page.locator(".alert-success")).to_contain_text(f"{number} {words['confirmed']}")
        expect(page.get_by_text(words["empty"])).to_be_visible()
    finally:
        context.close()
    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == number)).one()
        assert document.is_declared and document.declared_by.username == "wang.fang"
