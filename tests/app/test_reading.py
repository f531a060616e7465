"""What the reading asks a person to look at, on every front end, and where it is kept.

Real intake and the real processing step in-process (``process_document``), on SQLite and
PostgreSQL: a generated invoice naming two companies neither of which is the archive's
customer is flagged as a possible misfiling; a scan with a blank page gets "page 2 has no
readable text" on its checklist line; suggestions are only in the encrypted reading.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import inspect, text

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import User
from archive_app.services import documents
from archive_app.services.intake import IntakeItem, take_in
from archive_app.services.processing import process_document
from tests import documents as docs
from tests import paperwork
from tests.conftest import run_cli
from tests.retention_app.conftest import document_row, make_archive

pytestmark = pytest.mark.slow


@pytest.fixture
def container(settings: Settings) -> Container:
    instance = Container.from_settings(
        settings.with_overrides(own_company_names=("上海明远贸易有限公司",))
    )
    yield instance
    instance.close()


def _file(container: Container, admin: User, archive: str, path: Path, class_code: str) -> str:
    [result] = take_in(
        container, admin.id, archive, [IntakeItem(path=path, filename=path.name)],
        default_class=class_code,
    )  # fmt: skip
    assert result.document_id is not None, result
    process_document(container, result.document_id)
    return result.document or ""


@pytest.fixture
def filed(container: Container, admin: User, tmp_path: Path) -> dict[str, str]:
    archive = make_archive(container, admin, "上海明远贸易有限公司")
    other = paperwork.generate("vat_paper", 3)  # names two other companies
    blank = docs.render_page([" "], width=1200)
    scans = {
        "other": docs.write_png(other.image, tmp_path / "other.png"),
        "blank": docs.write_tiff(
            [docs.render_page(docs.INVOICE_LINES), blank], tmp_path / "two.tif"
        ),
    }
    numbers = {
        name: _file(container, admin, archive, path, "invoice") for name, path in scans.items()
    }
    numbers["archive"] = archive
    numbers["seller"] = other.truth["seller"]
    return numbers


def test_reading_flags_and_warnings_on_every_front_end(
    container: Container, admin: User, filed: dict[str, str], app, admin_client: FlaskClient,
    settings: Settings,
):  # fmt: skip
    other = document_row(container, filed["other"])
    blank = document_row(container, filed["blank"])
    assert other.status.value == "ready" and other.misfiling_suspected
    assert other.unreadable_pages == []
    assert blank.unreadable_pages == [2] and not blank.misfiling_suspected

    page = admin_client.get(f"/documents/{filed['other']}").get_data(as_text=True)
    assert "reading-warning" in page and filed["seller"] in page
    assert "PP-OCR" in page  # the engine that read the page, with its confidence
    checklist = admin_client.get(f"/archives/{filed['archive']}/checklist").get_data(as_text=True)
    assert checklist.count("checklist-warning") == 2
    assert filed["seller"] in checklist

    env = {
        **os.environ,
        "ARCHIVE_HOME": str(settings.home),
        "ARCHIVE_DATABASE_URL": settings.database_url,
    }
    listed = json.loads(run_cli(env, "checklist", "list", filed["archive"], "--json").stdout)
    warnings = {row["document"]: row["warnings"] for row in listed["lines"]}
    assert [w["message"] for w in warnings[filed["blank"]]] == ["page 2 has no readable text"]
    assert warnings[filed["other"]][0]["code"] == "misfiling"
    shown = json.loads(run_cli(env, "show", filed["other"], "--json").stdout)
    assert shown["warnings"][0]["named"] == filed["seller"]
    assert shown["suggestions"]["fields"]["invoice_number"]["value"]

    # The suggestions (document text) are only in the encrypted reading, not in the database.
    columns = {c["name"] for c in inspect(container.database.engine).get_columns("documents")}
    assert "suggestions" not in columns
    with container.database.session() as session:
        reading = documents.read_reading(container, session, admin, filed["other"])
    seller = filed["seller"]
    assert any(p["value"] == seller for p in reading.suggestions["parties"])
    row = document_row(container, filed["other"])
    with container.database.session() as session:
        dumped = json.dumps(
            [list(r) for r in session.execute(text("SELECT * FROM documents"))],
            default=str, ensure_ascii=False,
        )  # fmt: skip
    assert seller not in dumped and row.text_object_id
