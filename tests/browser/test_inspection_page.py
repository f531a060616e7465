"""In a real browser: an admin follows the side menu to the inspection page and reads the
latest run, what it found, and the recent runs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive_app.infra.container import Container
from archive_app.models import CustomerArchive, User
from archive_app.services import inspection_runs
from tests.conftest import ADMIN_PASSWORD
from tests.retention_app.conftest import make_archive

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_the_inspection_page_from_the_side_menu(page, container: Container, admin: User) -> None:
    from playwright.sync_api import expect

    number = make_archive(container, admin)
    with container.database.session() as session:
        storage_id = session.scalar(
            select(CustomerArchive.storage_id).where(CustomerArchive.number == number)
        )
    stray = container.store.put(storage_id, b"left behind by a crashed import")
    inspection_runs.run_inspection(container, None)

    page.goto("/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("link", name="Inspection", exact=True).click()
    expect(page.get_by_role("heading", name="Inspection", exact=True)).to_be_visible()
    expect(page.locator("#latest-state")).to_have_text("Problems found")
    rows = page.locator("#findings tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Object nothing references")
    expect(rows.first).to_contain_text(number)
    expect(rows.first).to_contain_text(stray.object_id)
    trend = page.locator("#trend tbody tr")
    expect(trend).to_have_count(1)
    expect(trend.first).to_contain_text("Scheduled")
