"""The checklist through HTTP and the command line: self-confirmation refused on both,
bulk confirmation from the review queue, paper locations with their history, and the
printable checklist and cover sheet (HTML and PDF with extractable Chinese text)."""

from __future__ import annotations

import io
import json
import os
import re

import pypdf
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive_app.app import create_app
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import AuditEntry, User
from archive_app.services import checklist, locations
from tests.app.helpers import csrf_token, login
from tests.conftest import USER_PASSWORD, CliResult, run_cli

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers


@pytest.fixture
def web(instance_settings: Settings):
    app = create_app(instance_settings, testing=True)
    yield app
    app.extensions["archive"].close()


def _client(app, username: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, username, USER_PASSWORD).status_code == 302
    return client


def _submitted(container: Container, filer: User, ingest, make_ready, count: int = 1) -> list[str]:
    numbers = [ingest(filer) for _ in range(count)]
    for number in numbers:
        make_ready(number)
    with container.database.session() as session:
        for number in numbers:
            checklist.submit(session, filer, number)
    return numbers


def test_http_refuses_self_confirmation_and_bulk_confirms_from_the_queue(
    web, container: Container, archive_number: str, filer: User, reviewer: User, ingest, make_ready
) -> None:
    numbers = _submitted(container, filer, ingest, make_ready, count=2)
    own = _client(web, "li.na")
    token = csrf_token(own, "/review")
    response = own.post(f"/documents/{numbers[0]}/checklist/confirm", data={"csrf_token": token})
    assert response.status_code == 403
    assert "cannot review it" in response.get_data(as_text=True)
    # The filer's queue shows the lines without a checkbox to confirm them.
    queue = own.get("/review").get_data(as_text=True)
    assert numbers[0] in queue and 'name="documents"' not in queue

    other = _client(web, "wang.fang")
    for number in numbers:  # bulk confirmation takes lines opened beside their scan
        assert other.get(f"/review/{number}").status_code == 200
    page = other.get("/review").get_data(as_text=True)
    assert all(f'value="{n}"' in page for n in numbers)
    response = other.post(
        "/review/confirm",
        data={"csrf_token": csrf_token(other, "/review"), "documents": numbers},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Confirmed and filed" in response.get_data(as_text=True)
    assert "Nothing is waiting for review." in response.get_data(as_text=True)
    section = other.get(f"/archives/{archive_number}/checklist").get_data(as_text=True)
    assert section.count('data-state="filed"') == 2


def test_submit_through_http_lists_what_is_missing(
    web, container: Container, archive_number: str, filer: User, ingest, make_ready
) -> None:
    number = ingest(filer)
    make_ready(number, fields={"counterparty": "华信", "sign_date": "2026-03-05"})
    client = _client(web, "li.na")
    response = client.post(
        f"/documents/{number}/checklist/submit",
        data={"csrf_token": csrf_token(client, "/review")},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "cannot go to review yet" in text
    assert "Contract number: is missing" in text and "End date: is missing" in text
    detail = client.get(f"/documents/{number}").get_data(as_text=True)
    assert 'data-state="draft"' in detail


# The command line translates to the same services as the web tests above, which run on both
# databases: once, on PostgreSQL.
@pytest.mark.parametrize("database_kind", ["postgresql"])
def test_cli_checklist_list_confirm_reject_and_self_confirmation(
    instance_settings: Settings,
    container: Container,
    archive_number: str,
    filer: User,
    reviewer: User,
    ingest,
    make_ready,
) -> None:
    first, second = _submitted(container, filer, ingest, make_ready, count=2)
    env = {
        **os.environ,
        "ARCHIVE_HOME": str(instance_settings.home),
        "ARCHIVE_DATABASE_URL": instance_settings.database_url,
        "ARCHIVE_QUEUE": instance_settings.queue_name,
    }

    def archive(*args: str) -> CliResult:
        return run_cli(env, *args)

    refused = archive("checklist", "confirm", first, "--as", "li.na")
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert refused.stderr.strip() == (
        f"archive: user 'li.na' filed or submitted {first} and cannot review it; "
        "another archivist must confirm it"
    )
    done = archive("checklist", "confirm", first, "--as", "wang.fang")
    assert done.returncode == 0, done.stderr
    rejected = archive("checklist", "reject", second, "--reason", "缺少盖章页", "--as", "wang.fang")
    assert rejected.returncode == 0, rejected.stderr
    assert (
        archive(
            "location",
            "set",
            first,
            "--room",
            "A301",
            "--shelf",
            "3",
            "--box",
            "12",
            "--position",
            "5",
        ).returncode
        == 0
    )

    listing = archive("checklist", archive_number, "--json")
    assert listing.returncode == 0, listing.stderr
    rows = {row["document"]: row for row in json.loads(listing.stdout)["lines"]}
    assert rows[first]["state"] == "filed" and rows[first]["reviewer"] == "wang.fang"
    assert rows[first]["paper_location"] == {
        "room": "A301",
        "shelf": "3",
        "box": "12",
        "position": "5",
    }
    assert rows[second]["state"] == "draft" and rows[second]["rejection_reason"] == "缺少盖章页"
    unlocated = json.loads(
        archive("checklist", "list", archive_number, "--unlocated", "--json").stdout
    )
    assert [row["document"] for row in unlocated["lines"]] == [second]

    missing = archive("checklist", "submit", ingest(filer), "--as", "li.na")
    assert missing.returncode == 1
    assert (
        "cannot be submitted for review: status: text extraction has not finished yet"
        in missing.stderr
    )


def test_paper_location_history_and_filters(
    web, container: Container, archive_number: str, filer: User, reviewer: User, ingest
) -> None:
    located, other = ingest(filer), ingest(filer)
    with container.database.session() as session:
        locations.set_location(
            session, filer, located, room="A301", shelf="3", box="12", position="5"
        )
    with container.database.session() as session:
        locations.set_location(
            session,
            reviewer,
            located,
            room="B102",
            shelf="1",
            box="7",
            position="2",
            note="移至新库房",
        )
    with container.database.session() as session:
        assert (
            locations.set_location(
                session, reviewer, located, room="B102", shelf="1", box="7", position="2"
            )
            is None
        )
        moves = locations.history(session, filer, located)
        assert [
            (m.moved_by.username, m.from_location["room"], m.to_location["room"]) for m in moves
        ] == [
            ("li.na", "", "A301"),
            ("wang.fang", "A301", "B102"),
        ]
        assert moves[1].note == "移至新库房"
        _archive, views = checklist.list_lines(session, filer, archive_number, location="b102")
        assert [v.document.number for v in views] == [located]
        _archive, views = checklist.list_lines(session, filer, archive_number, unlocated=True)
        assert [v.document.number for v in views] == [other]
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "document.locate")
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert entry.before["room"] == "A301" and entry.after["room"] == "B102"

    client = _client(web, "li.na")
    detail = client.get(f"/documents/{located}").get_data(as_text=True)
    assert "B102 / 1 / 7 / 2" in detail and "移至新库房" in detail
    # The archive list counts the documents whose paper original is not located.
    rows = client.get("/archives").get_data(as_text=True)
    assert re.search(r'class="text-end unlocated"><span class="badge text-bg-warning">1<', rows)
    filtered = client.get(f"/archives/{archive_number}/checklist?location=A301").get_data(
        as_text=True
    )
    assert located not in filtered and "No checklist lines match." in filtered


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def test_printable_checklist_and_cover_sheet_with_chinese_text(
    web, container: Container, archive_number: str, filer: User, reviewer: User, ingest, make_ready
) -> None:
    [number] = _submitted(container, filer, ingest, make_ready)
    with container.database.session() as session:
        checklist.confirm(session, reviewer, number)
        locations.set_location(
            session, filer, number, room="档案室A", shelf="3", box="12", position="5"
        )
    client = _client(web, "li.na")

    page = client.get(f"/archives/{archive_number}/checklist/print")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "归档清单" in html and number in html and "档案室A / 3 / 12 / 5" in html
    assert "print.css" in html
    assert "@media print" in client.get("/static/print.css").get_data(as_text=True)

    pdf = client.get(f"/archives/{archive_number}/checklist.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data)
    for expected in (
        "归档清单",
        "Filingchecklist",
        archive_number,
        "上海明远贸易有限公司",
        number,
        "档案室A/3/12/5",
        "已归档",
        "wang.fang",
        "合同1.pdf",
        "秘密Confidential",
    ):
        assert expected in text, (expected, text)

    cover = client.get(f"/archives/{archive_number}/cover")
    assert "客户档案" in cover.get_data(as_text=True)
    cover_pdf = client.get(f"/archives/{archive_number}/cover.pdf")
    text = _pdf_text(cover_pdf.data)
    for expected in ("客户档案", archive_number, "上海明远贸易有限公司", "保密级别", "秘密"):
        assert expected in text, (expected, text)
    with container.database.session() as session:
        actions = set(
            session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == archive_number))
        )
        assert {"checklist.print", "cover.print"} <= actions
