"""Customers on the web, over real HTTP with CSRF on (both databases): the import page with
its report (refused whole, dry run, skip bad rows), the templates, the list's filters,
groups and export, and the handover download (compliance and admins only)."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from archive_app.models import CustomerArchive
from tests.app.helpers import csrf_token, login
from tests.app.test_customers import GOOD, archive_count, write_csv
from tests.conftest import USER_PASSWORD


def upload(client: FlaskClient, path: Path, **flags: str):
    data = {"csrf_token": csrf_token(client, "/archives/import"), **flags}
    data["file"] = (io.BytesIO(path.read_bytes()), path.name)
    return client.post("/archives/import", data=data, content_type="multipart/form-data")


def test_import_page_reports_refuses_and_imports(
    admin_client: FlaskClient, database, tmp_path: Path
) -> None:
    bad = write_csv(tmp_path / "bad.csv", [*GOOD, ["", "火星人", "", "", "", "", ""]])
    refused = upload(admin_client, bad)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="import-refused"' in page
    # The reasons are said in the page's language (Chinese by default).
    assert '<td class="font-monospace">5</td>' in page and "必填" in page
    assert "is required" not in page
    assert archive_count(database) == 0

    dry = upload(admin_client, bad, dry_run="1", skip_invalid="1")
    assert dry.status_code == 200 and 'id="import-dry-run"' in dry.get_data(as_text=True)
    assert archive_count(database) == 0

    done = upload(admin_client, bad, skip_invalid="1")
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and 'id="import-done"' in page and "KH-000003" in page
    assert archive_count(database) == 3

    (tmp_path / "notes.txt").write_text("客户名称\n甲\n")
    unreadable = upload(admin_client, tmp_path / "notes.txt")
    assert unreadable.status_code == 422 and 'id="import-error"' in unreadable.get_data(
        as_text=True
    )
    template = admin_client.get("/archives/import/template.xlsx")
    header = next(load_workbook(io.BytesIO(template.data)).active.iter_rows(values_only=True))
    assert template.status_code == 200 and header[0] == "客户名称"
    assert admin_client.get("/archives/import/template.csv").data.startswith(b"\xef\xbb\xbf")

    # The list filters by tag and groups by region; the export keeps the filters.
    listed = admin_client.get("/archives?tag=华东").get_data(as_text=True)
    assert "上海明远贸易有限公司" in listed and "Harbour Tools Ltd" not in listed
    grouped = admin_client.get("/archives?group=region").get_data(as_text=True)
    assert 'id="archive-groups"' in grouped and "深圳" in grouped
    exported = admin_client.get("/archives/export.csv?region=北京").data.decode("utf-8-sig")
    assert exported.count("\n") == 2 and "李四" in exported

    # The relationship end is a column of the table.
    ended = write_csv(
        tmp_path / "ended.csv",
        [["李四", "2024-06-30"], ["", "2024-06-30"], ["王五", "2024-13-01"], ["李四", ""]],
        header=["客户名称", "业务关系终止日期"],
    )
    page = upload(admin_client, ended).get_data(as_text=True)
    for reason in ("必填", "须为 YYYY-MM-DD 格式的日期", "与第 2 行重复"):
        assert reason in page
    fixed = write_csv(
        tmp_path / "fixed.csv", [["李四", "2024-06-30"]], ["客户名称", "业务关系终止日期"]
    )
    assert upload(admin_client, fixed).status_code == 200
    with database.session() as session:
        ended_on = session.scalars(
            select(CustomerArchive.relationship_end).where(CustomerArchive.name == "李四")
        ).one()
    assert ended_on == date(2024, 6, 30)


def test_handover_download_and_refusals(
    app: Flask, admin_client: FlaskClient, make_user, tmp_path: Path
) -> None:
    upload(admin_client, write_csv(tmp_path / "t.csv", GOOD))
    token = csrf_token(admin_client, "/archives/KH-000001")
    response = admin_client.post("/archives/KH-000001/handover", data={"csrf_token": token})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as package:
        assert {"manifest.json", "checklist.pdf", "checklist.csv", "audit.jsonl"} <= set(
            package.namelist()
        )
    make_user("li", "archivist")
    client = app.test_client()
    login(client, "li", USER_PASSWORD)
    page = client.get("/archives/KH-000001").get_data(as_text=True)
    assert "/handover" not in page
    token = csrf_token(client, "/archives/KH-000001")
    assert (
        client.post("/archives/KH-000001/handover", data={"csrf_token": token}).status_code == 403
    )
