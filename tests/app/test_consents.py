"""Consent records for a customer's personal data, through the real command line on both
databases: recorded, listed, withdrawn once, with bad dates and refusals; shown on the
archive page; an erasure request withdraws every consent still in force and its report
lists them, and the archive's records, now restricted, are exported for handover only by
compliance."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from archive_app.infra.container import Container
from archive_app.infra.db import Database
from archive_app.models import AuditEntry, CustomerConsent, ErasureRequest, User
from tests.app.helpers import post_form
from tests.retention_app.conftest import make_archive


def test_consents_are_recorded_withdrawn_and_shown(
    cli,
    container: Container,
    admin: User,
    people,
    make_user,
    admin_client: FlaskClient,
    tmp_path: Path,
) -> None:
    archive = make_archive(container, admin)
    make_user("zhao", "staff")
    added = cli(
        "archives", "consent", "add", archive, "--purpose", "营销短信", "--scope", "手机号",
        "--date", "2025-03-01", "--channel", "线上", "--json", "--as", "arch",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    first = json.loads(added.stdout)["id"]
    second = cli(
        "archives", "consent", "add", archive, "--purpose", "信用评估",
        "--date", "2025-04-01", "--channel", "书面", "--as", "arch",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr

    future = (date.today() + timedelta(days=2)).isoformat()
    cases = [
        (("add", archive, "--purpose", "x", "--date", future, "--channel", "书面"), 1, "future"),
        (("add", archive, "--purpose", "x", "--date", "2025-01-01"), 2, "--channel"),
        (
            ("add", archive, "--purpose", " ", "--date", "2025-01-01", "--channel", "c"),
            1,
            "purpose",
        ),
        (
            ("withdraw", archive, str(first), "--date", "2025-02-01", "--channel", "电话"),
            1,
            "before",
        ),
        (("withdraw", archive, "999", "--date", "2025-05-01", "--channel", "电话"), 1, "not found"),
    ]
    for args, code, text in cases:
        result = cli("archives", "consent", *args, "--as", "arch")
        assert result.returncode == code and text in result.stderr, (args, result.stderr)
    staff = cli("archives", "consent", "add", archive, "--purpose", "x", "--date", "2025-01-01",
                "--channel", "c", "--as", "zhao")  # fmt: skip
    assert staff.returncode == 1 and "may not create or edit archives" in staff.stderr

    withdrawn = cli("archives", "consent", "withdraw", archive, str(first), "--date",
                    "2025-05-01", "--channel", "电话", "--as", "arch")  # fmt: skip
    assert withdrawn.returncode == 0, withdrawn.stderr
    again = cli("archives", "consent", "withdraw", archive, str(first), "--date", "2025-05-02",
                "--channel", "电话", "--as", "arch")  # fmt: skip
    assert again.returncode == 1 and "already withdrawn" in again.stderr
    listed = json.loads(
        cli("archives", "consent", "list", archive, "--json", "--as", "zhao").stdout
    )
    assert [(c["purpose"], c["active"]) for c in listed["consents"]] == [
        ("营销短信", False),
        ("信用评估", True),
    ]
    page = admin_client.get(f"/archives/{archive}").get_data(as_text=True)
    assert 'id="consents"' in page and "营销短信" in page and "2025-05-01 · 电话" in page

    # An erasure request withdraws what is still in force; its report lists every consent.
    request = cli("retention", "erasure", "request", archive, "--json", "--as", "comp1")
    assert request.returncode == 0, request.stderr
    number = json.loads(request.stdout)["request"]
    listed = json.loads(cli("archives", "consent", "list", archive, "--json").stdout)
    assert all(not c["active"] for c in listed["consents"])
    assert listed["consents"][1]["withdrawal_channel"] == f"erasure request {number}"
    with container.database.session() as session:
        erasure = session.scalars(select(ErasureRequest)).one()
        assert erasure.report is not None
        assert [c["purpose"] for c in erasure.report["consents"]] == ["营销短信", "信用评估"]
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.startswith("consent."))
        ).all()
        assert actions == [
            "consent.record",
            "consent.record",
            "consent.withdraw",
            "consent.withdraw",
        ]

    # Its records are now restricted to compliance: an admin may not export them for handover.
    package = tmp_path / "restricted.zip"
    refused = cli("archives", "export", archive, "-o", str(package))
    assert refused.returncode == 1 and "restricted records" in refused.stderr
    assert not package.exists()
    allowed = cli("archives", "export", archive, "-o", str(package), "--as", "comp1")
    assert allowed.returncode == 0, allowed.stderr


def test_consents_of_an_archive_out_of_sight_are_not_found(
    cli, container: Container, admin: User, make_user, database: Database
) -> None:
    archive = make_archive(container, admin)
    cli("archives", "edit", archive, "--level", "secret")
    make_user("wang", "archivist", "internal")
    result = cli("archives", "consent", "list", archive, "--as", "wang")
    assert result.returncode == 1 and "not found" in result.stderr


def test_consents_are_recorded_and_withdrawn_on_the_archive_page(
    container: Container, admin: User, admin_client: FlaskClient
) -> None:
    archive = make_archive(container, admin)
    page = f"/archives/{archive}"
    post_form(admin_client, "/language/zh_CN", {"next": page}, page)
    added = post_form(
        admin_client,
        f"{page}/consents",
        {"purpose": "营销短信", "scope": "手机号", "given_on": "2025-03-01", "channel": "线上"},
        page,
    )
    assert added.status_code == 302 and added.location.endswith(f"{page}#consents")
    shown = admin_client.get(page).get_data(as_text=True)
    assert "营销短信" in shown and "已记录同意" in shown
    refused = post_form(
        admin_client, f"{page}/consents", {"purpose": "x", "given_on": "2025-03-01"}, page
    )
    assert refused.status_code == 302
    assert "请检查：渠道" in admin_client.get(page).get_data(as_text=True)
    with container.database.session() as session:
        [consent] = session.scalars(select(CustomerConsent)).all()
        consent_id = consent.id
    url = f"{page}/consents/{consent_id}/withdraw"
    post_form(admin_client, url, {"withdrawn_on": "2025-02-01", "channel": "电话"}, page)
    assert "请检查：撤回日期" in admin_client.get(page).get_data(as_text=True)
    post_form(admin_client, url, {"withdrawn_on": "2025-05-01", "channel": "电话"}, page)
    assert "2025-05-01 · 电话" in admin_client.get(page).get_data(as_text=True)
    again = post_form(admin_client, url, {"withdrawn_on": "2025-05-02", "channel": "电话"}, page)
    assert again.status_code == 302
    assert "该同意已撤回" in admin_client.get(page).get_data(as_text=True)
    with container.database.session() as session:
        trail = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.startswith("consent."))
        ).all()
    assert trail == ["consent.record", "consent.withdraw"]
