"""An uploaded scan is customer content: in transit it touches the disk only in the
instance's private temporary folder, never the system's /tmp."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from archive_app.infra.container import Container
from archive_app.models import User
from tests import documents as docs
from tests.app.helpers import csrf_token
from tests.retention_app.conftest import make_archive

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers


def test_a_large_upload_is_spooled_inside_the_instance(
    admin_client: FlaskClient,
    container: Container,
    admin: User,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs.require_cjk_font()
    archive = make_archive(container, admin)
    token = csrf_token(admin_client, f"/archives/{archive}")
    scan = docs.write_png(docs.render_page(docs.INVOICE_LINES), tmp_path / "发票.png")
    scan.write_bytes(scan.read_bytes() + os.urandom(1024 * 1024))  # past the in-memory limit
    boundary, body = encode_multipart(
        MultiDict({"files": FileStorage(scan.open("rb"), "发票.png", "files"), "class": "invoice"})
    )
    # The system's temporary folder is gone: anything written there would fail the upload.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-system-tmp"))
    response = admin_client.post(
        f"/archives/{archive}/documents",
        data=body,
        headers={"X-CSRFToken": token},
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    [result] = response.get_json()
    assert result["status"] == "queued", result
    private = container.settings.home / "tmp"
    assert oct(private.stat().st_mode & 0o777) == "0o700"
    assert [p for p in private.rglob("*") if p.is_file()] == []  # nothing left behind
