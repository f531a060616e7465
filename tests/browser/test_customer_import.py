"""In a real browser: an archivist downloads the template of the customer information table,
uploads a table with bad rows and reads the error report (lines and reasons) in English,
then switches to 中文 and imports the good rows with "skip bad rows", and finds the
imported customer by its tag in the list."""

from __future__ import annotations

import csv
import io
import random

import pytest
from openpyxl import load_workbook

from tests.conftest import ADMIN_PASSWORD
from tests.paperwork import uscc

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_import_customers_with_the_error_report_in_both_languages(page, tmp_path) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.goto("/archives")
    page.get_by_role("link", name="Import customers").click()
    expect(
        page.get_by_role("heading", name="Import the customer information table")
    ).to_be_visible()
    with page.expect_download() as download_info:
        page.locator("#template-xlsx").click()
    template = tmp_path / "template.xlsx"
    download_info.value.save_as(template)
    header = next(load_workbook(template).active.iter_rows(values_only=True))

    draw = random.Random(7)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    good = dict(
        zip(header, ["杭州西湖茶业有限公司", "企业", "农业", "杭州", uscc(draw)], strict=False)
    )
    good["标签"] = "茶叶;华东"
    writer.writerow([good.get(column, "") for column in header])
    writer.writerow(["", "企业", *[""] * (len(header) - 2)])  # line 3: no name
    bad_tax = dict(
        zip(header, ["税号有误有限公司", "企业", "", "", uscc(draw, valid=False)], strict=False)
    )
    writer.writerow([bad_tax.get(column, "") for column in header])  # line 4
    table = tmp_path / "customers.csv"
    table.write_bytes(out.getvalue().encode("utf-8-sig"))

    page.locator("#import-file").set_input_files(str(table))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-refused")).to_contain_text("Nothing was imported: 2 bad rows")
    rows = page.locator("#bad-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("3")
    expect(rows.nth(0)).to_contain_text("Customer name: is required")
    expect(rows.nth(1)).to_contain_text("4")
    expect(rows.nth(1)).to_contain_text("check digit")

    page.locator('button[data-language="zh_CN"]').click()
    expect(page.get_by_role("heading", name="导入客户信息表")).to_be_visible()
    page.locator("#import-file").set_input_files(str(table))
    page.get_by_label("跳过错误行，导入其余各行").check()
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator("#import-done")).to_contain_text("导入完成：新建 1 个")
    expect(page.locator("#bad-rows tbody tr")).to_have_count(2)
    expect(page.locator("#bad-rows")).to_contain_text("客户名称")
    expect(page.locator("#changed-rows")).to_contain_text("KH-000001")

    page.goto("/archives?tag=茶叶")
    expect(page.locator("#archive-rows tbody tr")).to_have_count(1)
    expect(page.locator("#archive-rows")).to_contain_text("杭州西湖茶业有限公司")
