"""In a real browser, with a real worker, in English and in Chinese: an archivist uploads a
mixed batch choosing a class per file and watches it finish; on an invoice the values read
from the text show as suggestions (missing, here and in the checklist, until accepted),
accepts one and then all, fixes the tax and submits; a foreign invoice uploaded as a
contract has its amount accepted, changes class, keeps the amount, is marked as issued outside mainland China and
passes the checklist without a Chinese invoice code."""

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

TEXT = {
    "en": {
        "locale": "en-US",
        "user": "User name",
        "password": "Password",
        "log_in": "Log in",
        "dashboard": "Dashboard",
        "batch": "Document class for this batch",
        "class_of": "Class of {name}",
        "upload": "Upload 3 files",
        "done": "Done",
        "pending": "values suggested from the text are not saved yet",
        "suggestion": "Suggestion, not saved",
        "accept_code": "Accept the suggestion for Invoice code",
        "accept_all": "Accept all suggestions",
        "accept_amount": "Accept the suggestion for Amount",
        "missing_code": "Invoice code: is missing",
        "missing_tax": "Tax: is missing",
        "accepted": "Suggestions accepted and saved.",
        "save": "Save",
        "saved": "Changes saved.",
        "class": "Class",
        "class_changed": "Class changed to Invoice. Kept: Amount.",
        "abroad": "Issuer outside mainland China",
        "optional": "optional",
        "submit": "Submit for review",
        "submitted": "waiting for a second person",
    },
    "zh": {
        "locale": "zh-CN",
        "user": "用户名",
        "password": "密码",
        "log_in": "登录",
        "dashboard": "工作台",
        "batch": "本批文件类别",
        "class_of": "{name} 的类别",
        "upload": "上传 3 个文件",
        "done": "完成",
        "pending": "个从原文识别的建议值尚未保存",
        "suggestion": "建议值，未保存",
        "accept_code": "采纳发票代码的建议值",
        "accept_all": "全部采纳",
        "accept_amount": "采纳合同金额的建议值",
        "missing_code": "发票代码: 未填写",
        "missing_tax": "税额: 未填写",
        "accepted": "已采纳建议值并保存。",
        "save": "保存",
        "saved": "修改已保存。",
        "class": "类别",
        "class_changed": "类别已改为发票。保留：金额。",
        "abroad": "开票方在中国大陆境外",
        "optional": "选填",
        "submit": "提交复核",
        "submitted": "等待另一人复核",
    },
}


def _archive(settings: Settings, admin) -> str:
    container = Container.from_settings(settings)
    try:
        with container.database.session() as session:
            return archives.create_archive(
                session,
                admin,
                ArchiveInput(name="上海明远贸易有限公司"),
                number_pattern="KH-{seq:06d}",
                on_created=container.on_archive_created,
            ).number
    finally:
        container.close()


def _locate_and_submit(page, t: dict[str, str]) -> None:
    from playwright.sync_api import expect

    for field, value in (("room", "A301"), ("shelf", "3"), ("box", "12"), ("position", "5")):
        page.locator(f"#loc-{field}").fill(value)
    page.locator("#paper-location button[type=submit]").click()
    expect(page.locator(".paper-location-current")).to_have_text("A301 / 3 / 12 / 5")
    page.get_by_role("button", name=t["submit"]).click()
    expect(page.locator(".alert-success")).to_contain_text(t["submitted"])


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_mixed_batch_suggestions_class_change_and_a_foreign_invoice(
    browser, live_server, instance_settings, admin, make_user, worker, tmp_path, language
) -> None:
    from playwright.sync_api import expect

    t = TEXT[language]
    make_user("li.na", "archivist")
    number = _archive(instance_settings, admin)
    files = [
        docs.write_text_pdf([docs.INVOICE_LINES], tmp_path / "发票.pdf"),
        docs.write_text_pdf([docs.CONTRACT_LINES], tmp_path / "合同.pdf"),
        docs.write_text_pdf([docs.ENGLISH_INVOICE_LINES], tmp_path / "invoice-uk.pdf"),
    ]
    context = browser.new_context(base_url=live_server, locale=t["locale"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/login")
        page.get_by_label(t["user"]).fill("li.na")
        page.get_by_label(t["password"]).fill(USER_PASSWORD)
        page.get_by_role("button", name=t["log_in"]).click()
        expect(page.get_by_role("heading", name=t["dashboard"])).to_be_visible()

        # A mixed batch: contracts by default, the Chinese invoice set to invoice by hand;
        # the choice stays open until the upload starts.
        page.goto(f"/archives/{number}/upload")
        page.get_by_label(t["batch"]).select_option("contract")
        page.locator("#file-input").set_input_files([str(path) for path in files])
        invoice_class = page.get_by_label(t["class_of"].format(name="发票.pdf"))
        expect(invoice_class).to_be_enabled()
        invoice_class.select_option("invoice")
        page.get_by_role("button", name=t["upload"]).click()
        rows = page.locator("#upload-list tbody tr")
        expect(rows).to_have_count(3)
        for index in range(3):
            expect(rows.nth(index).locator(".status")).to_have_text(t["done"], timeout=60_000)
        numbers = [rows.nth(index).locator(".number a").inner_text() for index in range(3)]
        assert re.fullmatch(rf"{number}-FP-\d{{4}}-0001", numbers[0])
        assert re.fullmatch(rf"{number}-HT-\d{{4}}-0001", numbers[1])
        assert re.fullmatch(rf"{number}-HT-\d{{4}}-0002", numbers[2])

        # The invoice: what the text suggests is not saved, and both the field and the
        # checklist say it is missing.
        rows.nth(0).locator(".number a").click()
        expect(page.locator(".pending-suggestions")).to_contain_text(t["pending"])
        code = page.locator("#field-invoice_code")
        expect(code).to_have_value("")
        code_box = page.locator('.metadata-field[data-field="invoice_code"]')
        expect(code_box.locator(".field-missing")).to_be_visible()
        expect(code_box.locator(".suggestion")).to_contain_text(t["suggestion"])
        expect(code_box.locator(".suggested-value")).to_have_text("3100212130")
        expect(page.locator("#checklist .checklist-missing")).to_contain_text(t["missing_code"])

        page.get_by_role("button", name=t["accept_code"]).click()
        expect(page.locator(".alert-success")).to_contain_text(t["accepted"])
        expect(code).to_have_value("3100212130")
        expect(code_box.locator(".suggestion")).to_have_count(0)
        expect(code_box.locator(".field-missing")).to_have_count(0)
        expect(page.locator("#checklist .checklist-missing")).not_to_contain_text(t["missing_code"])

        page.get_by_role("button", name=t["accept_all"]).click()
        expect(page.locator(".alert-success")).to_contain_text(t["accepted"])
        expect(page.locator("#doc-title")).to_have_value("增值税专用发票")
        expect(page.locator("#field-invoice_number")).to_have_value("08741295")
        expect(page.locator("#field-invoice_date")).to_have_value("2026-03-18")
        expect(page.locator(".pending-suggestions")).to_have_count(0)
        # The tax is not in the text: still missing on both, typed by hand.
        expect(page.locator("#checklist .checklist-missing")).to_have_text(t["missing_tax"])
        # The amount suggested was the total with tax; the archivist puts the net amount.
        page.locator("#field-amount").fill("10,619.47")
        page.locator("#field-tax").fill("1,380.53")
        page.get_by_role("button", name=t["save"], exact=True).click()
        expect(page.locator(".alert-success")).to_contain_text(t["saved"])
        expect(page.locator("#field-amount")).to_have_value("10619.47")
        expect(page.locator("#field-tax")).to_have_value("1380.53")
        expect(page.locator("#checklist .checklist-missing")).to_have_count(0)
        _locate_and_submit(page, t)

        # The English invoice went in as a contract: its amount is accepted, then its class
        # changed; the amount stays and the invoice's fields are asked for.
        page.goto(f"/documents/{numbers[2]}")
        page.get_by_role("button", name=t["accept_amount"]).click()
        expect(page.locator("#field-amount")).to_have_value("4250.00")
        page.screenshot(path=str(tmp_path / "contract.png"), full_page=True)
        page.get_by_label(t["class"], exact=True).select_option("invoice")
        page.get_by_role("button", name=t["save"], exact=True).click()
        expect(page.locator(".alert-success")).to_contain_text(t["class_changed"])
        expect(page.locator("#field-amount")).to_have_value("4250.00")
        expect(page.locator("#field-invoice_code")).to_be_visible()
        expect(page.locator("#checklist .checklist-missing")).to_contain_text(t["missing_code"])

        # Issued abroad: no invoice code; its own number, country and currency instead. The
        # tax turns optional and the number read from the text acceptable as soon as the box
        # is ticked, before any save.
        tax_box = page.locator('.metadata-field[data-field="tax"]')
        number_box = page.locator('.metadata-field[data-field="invoice_number"]')
        expect(tax_box.locator(".field-missing")).to_be_visible()
        expect(number_box.locator(".suggestion-refused")).to_be_visible()
        expect(number_box.locator(".accept-suggestion")).to_be_hidden()
        page.get_by_label(t["abroad"]).check()
        expect(tax_box.locator(".field-missing")).to_be_hidden()
        expect(tax_box.locator(".relaxed-only")).to_have_text(t["optional"])
        expect(number_box.locator(".suggestion-refused")).to_be_hidden()
        expect(number_box.locator(".accept-suggestion")).to_be_visible()
        expect(page.locator("#field-invoice_code")).to_be_hidden()
        expect(page.locator('.metadata-field[data-field="currency"]')).to_be_visible()
        page.locator("#doc-title").fill("Invoice INV-20417, Harbour Tools")
        page.locator("#field-invoice_number").fill("INV-20417")
        page.locator("#field-invoice_date").fill("2026-03-05")
        page.locator("#field-issuer_country").fill("United Kingdom")
        page.locator("#field-currency").fill("usd")
        page.get_by_role("button", name=t["save"], exact=True).click()
        expect(page.locator(".alert-success")).to_contain_text(t["saved"])
        expect(page.get_by_label(t["abroad"])).to_be_checked()
        expect(page.locator("#field-currency")).to_have_value("USD")
        expect(page.locator("#field-invoice_code")).to_be_hidden()
        expect(page.locator("#checklist .checklist-missing")).to_have_count(0)
        _locate_and_submit(page, t)
    finally:
        context.close()
