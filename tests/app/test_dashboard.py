"""The dashboard over real HTTP: the figures of a prepared instance in the page's tables,
clearance (a lower-cleared user's counts leave the secret archive out), the cards each
role sees, and login landing on ``/dashboard``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from archive_app.infra.container import Container
from archive_app.models import User
from archive_app.models.base import utcnow
from archive_app.services.retention import batches
from tests.app.dashboard_data import Prepared, prepare
from tests.app.helpers import login
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD

ALL_CARDS = ("filed", "processing", "review", "appraisal", "destruction", "inspection", "unlocated")


def row(page: str, attribute: str, value: str) -> list[int]:
    """The whole numbers in the cells (not the header) of the table row marked
    ``data-ATTRIBUTE="VALUE"``."""
    match = re.search(rf'<tr data-{attribute}="{re.escape(value)}">(.*?)</tr>', page, re.S)
    assert match, f"no row {attribute}={value}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)
    return [int(re.sub(r"<[^>]+>", "", cell).strip()) for cell in cells]


def number(page: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}"[^>]*>\s*(\d+)\s*<', page)
    assert match, f"no figure #{element_id}"
    return int(match.group(1))


def cards(page: str) -> set[str]:
    return set(re.findall(r'<section[^>]* id="card-([a-z]+)"', page))


def dashboard_as(client: FlaskClient, username: str, password: str = USER_PASSWORD) -> str:
    response = login(client, username, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/dashboard")
    assert page.status_code == 200
    return page.get_data(as_text=True)


@pytest.fixture
def prepared(container: Container, admin: User, tmp_path: Path) -> Prepared:
    return prepare(container, admin, tmp_path / "files")


def open_destruction_list(container: Container, compliance: User) -> str:
    with container.database.session() as session:
        row_, _ = batches.create(session, compliance, utcnow().date(), required_approvals=2)
        return row_.number


def test_figures_of_a_prepared_instance(
    prepared: Prepared, container: Container, client: FlaskClient, make_user
) -> None:
    batch = open_destruction_list(container, make_user("comp", "compliance", "secret"))
    page = dashboard_as(client, "admin", ADMIN_PASSWORD)
    assert cards(page) == set(ALL_CARDS)
    invoices = row(page, "class", "invoice")
    contracts = row(page, "class", "contract")
    assert len(invoices) == 13  # twelve months and the total
    assert invoices[-3:] == [1, 4, 5]  # last month, this month, total
    assert contracts[-3:] == [1, 1, 2]
    assert sum(invoices[:-3]) == 0  # the invoice of 13 months ago is outside the window
    assert '<a href="/search?class=invoice">5</a>' in page
    assert row(page, "status", "queued") == [1]
    assert row(page, "status", "processing") == [1]
    assert row(page, "status", "failed") == [1]
    assert number(page, "review-waiting") == 2
    assert '<a href="/review" id="review-waiting">2</a>' in page
    assert row(page, "year", "now") == [1]
    this_year = utcnow().year
    assert row(page, "year", str(this_year)) == [0]
    assert row(page, "year", str(this_year + 1)) == [2]
    assert number(page, "destruction-open") == 1
    assert f'href="/retention/batches/{batch}"' in page
    assert 'id="inspection-none"' in page  # no run yet
    assert number(page, "unlocated-total") == 3
    assert row(page, "archive", prepared.internal) == [2]
    assert row(page, "archive", prepared.secret) == [1]
    assert f"/archives/{prepared.internal}/checklist?unlocated=1&amp;state=filed" in page


def test_a_lower_cleared_user_counts_without_the_secret_archive(
    prepared: Prepared, container: Container, app, make_user
) -> None:
    open_destruction_list(container, make_user("comp", "compliance", "secret"))
    make_user("low-comp", "compliance", "internal")
    make_user("low-arch", "archivist", "internal")

    page = dashboard_as(app.test_client(), "low-comp")
    assert row(page, "class", "invoice")[-3:] == [1, 2, 3]
    assert row(page, "class", "contract")[-3:] == [1, 1, 2]
    assert row(page, "year", "now") == [1]
    assert row(page, "year", str(utcnow().year + 1)) == [1]
    assert number(page, "destruction-open") == 1  # its one record is in the internal archive
    assert number(page, "unlocated-total") == 2
    assert prepared.secret not in page and "机密客户" not in page

    page = dashboard_as(app.test_client(), "low-arch")
    assert number(page, "review-waiting") == 1
    assert row(page, "status", "processing") == [0]
    assert row(page, "status", "failed") == [1]


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("staff", {"filed", "unlocated"}),
        ("archivist", {"filed", "processing", "review", "unlocated"}),
        ("compliance", {"filed", "appraisal", "destruction", "inspection", "unlocated"}),
        ("auditor", {"filed", "appraisal", "destruction", "inspection", "unlocated"}),
    ],
)
def test_each_role_sees_the_cards_of_what_it_may_see(
    role: str, shown: set[str], client: FlaskClient, make_user
) -> None:
    make_user("someone", role, "secret")
    page = dashboard_as(client, "someone")
    assert cards(page) == shown
    if role == "staff":
        assert "/retention" not in page and "/inspection" not in page


def test_login_lands_on_the_dashboard(client: FlaskClient) -> None:
    response = login(client, "admin", ADMIN_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    assert client.get("/").headers["Location"] == "/dashboard"
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'id="card-filed"' in page
    # The charts' library is served from the package, not from elsewhere.
    assert 'src="/static/vendor/chart.umd.js"' in page
    assert "cdn" not in page.lower()
    assert client.get("/static/vendor/chart.umd.js").status_code == 200
