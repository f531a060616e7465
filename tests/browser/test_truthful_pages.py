"""In a real browser, on an instance with a record in every state (``tests.showcase``):
a destroyed record says so and offers nothing that would fail, the retention plan and
search speak Chinese without raw codes, an error page speaks the user's language (Chinese,
then English) and leads back, a held record shows its hold and no form, and at 375 px the menu button opens the navigation and no page scrolls sideways."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_app.infra.container import Container
from archive_app.models import User
from tests import showcase
from tests.app.test_every_page import raw_codes
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page, username: str, password: str, *, chinese: bool) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.locator("#username, input[name=username]").first.fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("#main")).to_be_visible()
    if chinese:
        page.locator('button[data-language="zh_CN"]').click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def _words(page) -> set[str]:
    import re

    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_.\-]*", page.locator("#main").inner_text()))


@pytest.fixture
def case(container: Container, admin: User, people: dict[str, User], tmp_path: Path):
    return showcase.build(container, admin, people, tmp_path / "scans")


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_in_chinese_plan_search_destroyed_record_and_error_page(page, case) -> None:
    from playwright.sync_api import expect

    codes = raw_codes()
    _log_in(page, "comp1", USER_PASSWORD, chinese=True)

    page.goto("/retention/plan?as_of=2026-12-31")
    expect(page.locator(".retention-plan tbody tr").first).to_be_visible()
    assert _words(page) & codes == set()
    held = page.locator(f'.retention-plan tr:has(a:text-is("{case.held}"))')
    expect(held).to_contain_text("已冻结")
    expect(held).to_contain_text(showcase.HOLD_NAME)
    expect(page.locator(f'.retention-plan tr:has(a:text-is("{case.draft}"))')).to_contain_text(
        "尚未归档"
    )

    page.goto(f"/documents/{case.destroyed}")
    expect(page.locator(".document-status")).to_have_text("已销毁")
    expect(page.locator(".destroyed-stub")).to_be_visible()
    expect(page.get_by_role("link", name="原件")).to_have_count(0)
    expect(page.get_by_role("button", name="保存")).to_have_count(0)
    expect(page.locator("#version-file")).to_have_count(0)
    assert "None" not in page.locator("#main").inner_text()
    assert _words(page) & codes == set()

    page.goto(f"/documents/{case.held}")
    expect(page.locator(".frozen-state[data-frozen=held]")).to_contain_text("已冻结")
    expect(page.get_by_role("button", name="保存")).to_have_count(0)

    page.goto("/search")
    page.locator("#search-query").fill("付款单据")
    page.locator("#search-query").press("Enter")
    expect(page.locator(".search-total")).to_contain_text("找到")
    hit = page.locator(f'.search-hit[data-document="{case.draft}"]')
    expect(hit.locator(".search-hit-state")).to_have_text("草稿")
    hit.locator(f'a:text-is("{case.draft}")').click()
    expect(page.locator(".document-number")).to_have_text(case.draft)

    # A stale link, followed from the archive's page.
    base = page.url.split("/documents/")[0]
    page.goto(f"/documents/{case.destroyed}/original", referer=f"{base}/archives/{case.archive}")
    expect(page.locator(".error-page h1")).to_have_text("此记录已销毁")
    expect(page.locator(".error-message")).to_contain_text("已销毁，仅保留存根")
    assert _words(page) & {"document", "destroyed", "stub"} == set()
    page.locator(".error-back").click()
    expect(page).to_have_url(f"{base}/archives/{case.archive}")


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_in_english_a_held_record_and_an_error_page_with_a_way_back(page, case) -> None:
    from playwright.sync_api import expect

    _log_in(page, "admin", ADMIN_PASSWORD, chinese=False)
    page.goto(f"/documents/{case.held}")
    banner = page.locator(".frozen-state[data-frozen=held]")
    expect(banner).to_contain_text("On legal hold")
    expect(banner).to_contain_text(showcase.HOLD_NAME)
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    expect(page.locator("#version-file")).to_have_count(0)

    held_page = page.url
    page.goto(f"/documents/{case.destroyed}/original", referer=held_page)
    expect(page.locator(".error-page h1")).to_have_text("This record was destroyed")
    expect(page.locator(".error-message")).to_contain_text(case.destroyed)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Back to the previous page").click()
    expect(page).to_have_url(held_page)
    page.goto("/no-such-page")
    expect(page.locator(".error-page h1")).to_have_text("Not found")
    page.get_by_role("link", name="Go to the dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_at_375_px_the_menu_opens_and_nothing_scrolls_sideways(browser, live_server, case) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(
        base_url=live_server, locale="en-US", viewport={"width": 375, "height": 740}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        _log_in(page, "admin", ADMIN_PASSWORD, chinese=False)
        nav = page.locator("#main-nav")
        expect(nav).not_to_be_visible()
        page.locator("#menu-button").click()
        expect(nav).to_be_visible()
        nav.get_by_role("link", name="Archives").click()
        expect(page.get_by_role("heading", name="Customer archives")).to_be_visible()
        expect(nav).not_to_be_visible()
        for address in (
            "/archives",
            f"/archives/{case.archive}",
            f"/documents/{case.draft}",
            f"/documents/{case.destroyed}",
            "/retention/plan",
            "/search?q=payment",
        ):
            page.goto(address)
            wide = page.evaluate("document.documentElement.scrollWidth")
            culprits = page.evaluate(
                """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 376 && e.children.length === 0).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + (e.textContent||'').slice(0,30))"""
            )
            assert wide <= 375, f"{address} is {wide} px wide: {culprits}"

        page.goto(f"/documents/{case.destroyed}")
        expect(page.locator(".document-status")).to_have_text("Destroyed")
        expect(page.get_by_role("link", name="Original")).to_have_count(0)
        expect(page.get_by_role("button", name="Save")).to_have_count(0)
    finally:
        context.close()
