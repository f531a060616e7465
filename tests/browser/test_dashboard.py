"""In a real browser: the admin lands on the dashboard after login; Chart.js (served from
the package) draws every chart, and the table beside the chart of documents filed per
month holds the figures the chart draws."""

from __future__ import annotations

import pytest

from archive_app.infra.container import Container
from archive_app.models import User
from tests.app.dashboard_data import prepare
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_the_dashboard_draws_its_charts_and_tables(
    page, container: Container, admin: User, tmp_path
) -> None:
    from playwright.sync_api import expect

    prepared = prepare(container, admin, tmp_path / "files")
    page.goto("/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    for name in ("filed", "processing", "appraisal"):
        canvas = page.locator(f"#chart-{name}")
        expect(canvas).to_be_visible()
        assert canvas.evaluate("c => Chart.getChart(c) !== undefined"), name

    drawn = page.locator("#chart-filed").evaluate(
        """c => Object.fromEntries(Chart.getChart(c).data.datasets.map(
               d => [d.label, d.data.slice(-2)]))"""
    )
    assert drawn == {"Contract": [1, 1], "Invoice": [1, 4]}
    page.get_by_text("The figures as a table").first.click()
    invoices = page.locator('#table-filed tr[data-class="invoice"] td')
    expect(invoices).to_have_count(13)
    assert invoices.all_inner_texts()[-3:] == ["1", "4", "5"]
    months = page.locator("#table-filed thead th").all_inner_texts()
    assert months[-3:] == [prepared.last_month, prepared.this_month, "Total"]

    queue = page.locator("#chart-processing").evaluate(
        "c => Chart.getChart(c).data.datasets[0].data"
    )
    assert queue == [1, 1, 1]
