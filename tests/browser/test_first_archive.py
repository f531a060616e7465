"""In a real browser: log in, switch to 中文, create an archive, see its number."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_login_switch_to_chinese_and_create_an_archive(page) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("link", name="Archives", exact=True).click()
    expect(page.get_by_role("heading", name="Customer archives")).to_be_visible()

    page.locator('button[data-language="zh_CN"]').click()
    expect(page.get_by_role("heading", name="客户档案")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    page.get_by_role("link", name="新建档案").click()
    page.get_by_label("客户名称").fill("杭州阿里巴巴网络技术有限公司")
    page.get_by_label("保密级别").select_option("confidential")
    page.get_by_label("税号").fill("91330100799655058B")
    page.get_by_role("button", name="创建档案").click()

    expect(page.locator(".alert-success")).to_contain_text("KH-000001")
    expect(page.locator("h1 .archive-number")).to_have_text("KH-000001")
    expect(page.get_by_text("杭州阿里巴巴网络技术有限公司").first).to_be_visible()

    # Search as you type in the top bar finds it by a fragment of the name.
    page.get_by_placeholder("档案编号或客户名称…").fill("阿里")
    result = page.locator("#quick-find-results a").first
    expect(result).to_contain_text("KH-000001")
    result.click()
    expect(page).to_have_url(re.compile(r"/archives/KH-000001$"))
