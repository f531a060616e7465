"""A corrected scan becomes a new version, processed by a real worker: the record keeps
its number and declaration, the line needs review again, and the earlier version's
original, text and searchable PDF stay viewable and downloadable."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import select

from archive_app.app import create_app
from archive_app.errors import Conflict
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import AuditEntry, Document, DocumentVersion, User
from archive_app.services import checklist, documents, versions
from tests import documents as docs
from tests.app.helpers import login
from tests.app.workers import WorkerProcess, wait_for
from tests.checklist.conftest import CONTRACT_FIELDS
from tests.conftest import USER_PASSWORD


def test_new_version_keeps_the_old_one_viewable(
    instance_settings: Settings,
    container: Container,
    archive_number: str,
    filer: User,
    reviewer: User,
    ingest,
    worker: WorkerProcess,
    tmp_path: Path,
) -> None:
    number = ingest(filer, lines=["Supply Contract", "Delivery within 30 days."])
    wait_for(container.database, [number], {"ready", "failed"}, worker=worker)
    with container.database.session() as session:
        documents.edit_document(
            session, filer, number, title="采购合同", values=dict(CONTRACT_FIELDS)
        )
    with container.database.session() as session:
        checklist.submit(session, filer, number)
    with container.database.session() as session:
        checklist.confirm(session, reviewer, number)
        document = session.scalars(select(Document).where(Document.number == number)).one()
        declared_at, first_original = document.declared_at, document.original_object_id
    original_v1 = (tmp_path / "scan-1.pdf").read_bytes()

    corrected = docs.write_text_pdf(
        [["Supply Contract (corrected)", "Delivery within 45 days."]], tmp_path / "corrected.pdf"
    )
    version = versions.add_version(
        container, reviewer.id, number, corrected, "合同-更正.pdf", reason="第二页缺失"
    )
    assert version == 2
    with pytest.raises(Conflict, match="still being processed"):
        versions.add_version(container, filer.id, number, corrected, "again.pdf")
    done = wait_for(container.database, [number], {"ready", "failed"}, worker=worker)
    assert done[number].status.value == "ready", done[number].failure_reason

    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == number)).one()
        assert document.version == 2 and document.number == number
        assert document.declared_at == declared_at  # the record stays declared
        assert document.original_filename == "合同-更正.pdf"
        assert document.original_object_id != first_original
        assert document.fields["amount"] == "128000.00"  # metadata carries over
        line = checklist.line_for(session, filer, number)
        # The corrected scan needs another person's review; its filer is the uploader.
        assert line.state.value == "draft" and line.filer_id == reviewer.id

        rows = versions.list_versions(session, filer, number)
        assert [row.version for row in rows] == [2, 1]
        old = rows[1]
        assert old.confirmed_by_id == reviewer.id and old.superseded_at is not None
        assert old.original_filename == "合同1.pdf"

        handle = versions.prepare_version_export(session, filer, number, 1, "original")
        assert b"".join(documents.stream_export(container, handle)) == original_v1
        old_text = versions.read_version_text(container, session, filer, number, 1)
        assert "30 days" in old_text[0]["text"]
        new_text = documents.read_text(container, session, filer, number)
        assert "45 days" in new_text[0]["text"]
        pdf = versions.prepare_version_export(session, filer, number, 1, "pdf")
        old_pdf = b"".join(documents.stream_export(container, pdf))
        assert "30 days" in pypdf.PdfReader(io.BytesIO(old_pdf)).pages[0].extract_text()

        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "document.new_version")
        ).one()
        assert entry.before["version"] == 1 and entry.after["version"] == 2
        assert session.scalar(select(DocumentVersion).where(DocumentVersion.version == 2))

    with pytest.raises(Conflict, match="identical to the current version"):
        versions.add_version(container, filer.id, number, corrected, "same.pdf")

    # The same check through HTTP: the old original downloads byte for byte.
    app = create_app(instance_settings, testing=True)
    try:
        client = app.test_client()
        assert login(client, "li.na", USER_PASSWORD).status_code == 302
        page = client.get(f"/documents/{number}").get_data(as_text=True)
        assert 'data-version="1"' in page and 'data-version="2"' in page
        download = client.get(f"/documents/{number}/versions/1/original")
        assert download.status_code == 200 and download.data == original_v1
    finally:
        app.extensions["archive"].close()
