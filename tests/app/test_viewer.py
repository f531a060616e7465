"""Page images and thumbnails over real HTTP: rendered from the encrypted original, checked
and audited like a download, nothing decrypted on disk, and bad page numbers answered 404.

A destroyed record is made here by writing ``destroyed_at`` and crypto-shredding its objects
(what destruction does to a record); the destruction workflow has its own tests.
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from archive_app.infra.container import Container
from archive_app.models import AuditEntry, Document, User
from archive_app.models.base import utcnow
from archive_app.models.retention import ErasureRequest
from archive_app.services import archives, page_images
from archive_app.services.archives import ArchiveInput
from archive_app.services.intake import IntakeItem, take_in
from tests import documents as docs
from tests.app.helpers import login
from tests.conftest import USER_PASSWORD

pytestmark = pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)


def _archive(container: Container, admin: User, level: str) -> str:
    with container.database.session() as session:
        return archives.create_archive(
            session,
            admin,
            ArchiveInput(name="上海明远贸易有限公司", level=level),
            number_pattern="KH-{seq:06d}",
            on_created=container.on_archive_created,
        ).number


def _take_in(container: Container, user: User, archive: str, path: Path) -> str:
    [result] = take_in(
        container, user.id, archive, [IntakeItem(path, path.name)], default_class="invoice"
    )
    assert result.document is not None, result
    return result.document


@pytest.fixture
def scans(container: Container, admin: User, tmp_path: Path) -> dict[str, str]:
    """A one-page A4 PNG scan and a two-page scanned PDF in a confidential archive."""
    archive = _archive(container, admin, "confidential")
    page = docs.render_page(docs.ENGLISH_INVOICE_LINES, a4=True)
    png = docs.write_png(page, tmp_path / "invoice.png")
    pdf = docs.write_scanned_pdf([page, page.rotate(90, expand=True)], tmp_path / "two.pdf")
    return {
        "png": _take_in(container, admin, archive, png),
        "pdf": _take_in(container, admin, archive, pdf),
    }


def _client(client: FlaskClient, make_user, username: str, role: str, **kw) -> FlaskClient:
    make_user(username, role, **kw)
    assert login(client, username, USER_PASSWORD).status_code == 302
    return client


def _audit(container: Container, action: str, number: str) -> list[AuditEntry]:
    with container.database.session() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == action, AuditEntry.object_id == number
                )
            )
        )


def _files_written_since(folder: Path, since: float) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.stat().st_mtime >= since]


def test_pages_and_thumbnail_render_audited_and_nothing_decrypted_touches_the_disk(
    client: FlaskClient,
    make_user,
    container: Container,
    scans: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    viewer = _client(client, make_user, "li.na", "archivist")
    # Any use of the system's temporary folder would fail: it does not exist.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-system-tmp"))
    since = time.time() - 1
    home = container.settings.home
    originals = {
        number: container.store.read_bytes(*_objects(container, number))
        for number in scans.values()
    }

    response = viewer.get(f"/documents/{scans['png']}/pages/1.png")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "image/png"
    assert "no-store" in response.headers["Cache-Control"]
    image = Image.open(io.BytesIO(response.data))
    assert max(image.size) == page_images.PAGE_SIDE and image.height > image.width  # A4

    second = viewer.get(f"/documents/{scans['pdf']}/pages/2.png")
    assert second.status_code == 200
    turned = Image.open(io.BytesIO(second.data))
    assert turned.width > turned.height  # the second page is the landscape one

    thumbnail = viewer.get(f"/documents/{scans['pdf']}/thumbnail.png")
    assert thumbnail.status_code == 200
    assert max(Image.open(io.BytesIO(thumbnail.data)).size) == page_images.THUMBNAIL_SIDE

    [entry] = _audit(container, "document.view_page", scans["png"])
    assert (entry.actor_name, entry.after, entry.outcome) == ("li.na", {"page": 1}, "ok")
    assert [e.after for e in _audit(container, "document.view_page", scans["pdf"])] == [{"page": 2}]
    assert len(_audit(container, "document.view_thumbnail", scans["pdf"])) == 1

    # Nothing decrypted was written: no new file holds an original, a PNG or a PDF.
    for path in _files_written_since(home, since):
        data = path.read_bytes()
        assert not data.startswith((b"\x89PNG", b"%PDF")), path
        assert not any(original[:4096] in data for original in originals.values()), path
    assert [p for p in (home / "tmp").rglob("*") if p.is_file()] == []


def _objects(container: Container, number: str) -> tuple[str, str]:
    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == number)).one()
        assert document.original_object_id is not None
        return document.archive.storage_id, document.original_object_id


@pytest.mark.parametrize(
    "address",
    [
        "pages/0.png",
        "pages/2.png",
        "pages/-1.png",
        "pages/abc.png",
        "pages/1.5.png",
        "pages/99999999999999999999999999.png",
        "pages/1.jpg",
    ],
)
def test_pages_a_document_does_not_have_are_not_found(
    admin_client: FlaskClient, scans: dict[str, str], address: str
) -> None:
    response = admin_client.get(f"/documents/{scans['png']}/{address}")
    assert response.status_code == 404, response.status_code


def test_unknown_document_is_not_found(admin_client: FlaskClient, scans: dict[str, str]) -> None:
    assert admin_client.get("/documents/KH-999999-FP-2026-0001/pages/1.png").status_code == 404
    assert admin_client.get("/documents/KH-999999-FP-2026-0001/thumbnail.png").status_code == 404


def test_clearance_hides_the_pages_and_the_refusal_is_audited(
    client: FlaskClient, make_user, container: Container, scans: dict[str, str]
) -> None:
    viewer = _client(client, make_user, "zhou.min", "archivist", clearance="internal")
    for address in ("pages/1.png", "thumbnail.png"):
        response = viewer.get(f"/documents/{scans['png']}/{address}")
        assert response.status_code == 404
        assert response.mimetype != "image/png"
    assert _audit(container, "document.view_page", scans["png"]) == []
    with container.database.session() as session:
        refusals = session.scalars(
            select(AuditEntry).where(
                AuditEntry.actor_name == "zhou.min", AuditEntry.outcome == "refused"
            )
        ).all()
        assert refusals, "the refusal is recorded"


def test_a_restricted_record_shows_its_pages_to_compliance_only(
    client: FlaskClient, app, make_user, container: Container, admin: User, scans: dict[str, str]
) -> None:
    """After an erasure request the kept records are for compliance: the archivist's role is
    refused (403), as for a download. The request row is written directly here."""
    number = scans["png"]
    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == number)).one()
        session.add(
            ErasureRequest(number="ER-1", archive_id=document.archive_id, received_by_id=admin.id)
        )
    archivist = _client(client, make_user, "li.na", "archivist")
    assert archivist.get(f"/documents/{number}/pages/1.png").status_code == 403
    assert archivist.get(f"/documents/{number}/original").status_code == 403
    officer = _client(app.test_client(), make_user, "zhao.lei", "compliance")
    assert officer.get(f"/documents/{number}/pages/1.png").status_code == 200
    assert [e.actor_name for e in _audit(container, "document.view_page", number)] == ["zhao.lei"]


def test_a_destroyed_record_has_no_page_images(
    admin_client: FlaskClient, container: Container, scans: dict[str, str]
) -> None:
    number = scans["png"]
    storage_id, object_id = _objects(container, number)
    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == number)).one()
        document.destroyed_at = utcnow()
    container.store.shred_object(storage_id, object_id)
    for address in ("pages/1.png", "thumbnail.png"):
        response = admin_client.get(f"/documents/{number}/{address}")
        assert response.status_code == 409
        assert response.mimetype != "image/png"
    assert _audit(container, "document.view_page", number) == []
