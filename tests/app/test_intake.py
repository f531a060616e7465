"""Intake end to end with a real worker process, on the embedded broker and on Redis:
good files are stored, numbered, extracted and searchable-PDF'd; bad files are refused with
their reason while the rest of the batch lands; duplicates are reported; failed and
killed jobs are retried to success. (Recovery without a retry: ``test_recovery``.)"""

from __future__ import annotations

import json
from pathlib import Path

import pypdfium2
import pytest
from sqlalchemy import func, select

from archive_app.app import create_app
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.infra.db import Database
from archive_app.models import AuditEntry, Document, DocumentStatus, User
from archive_app.services import documents
from archive_app.services.intake import IntakeItem, take_in
from tests import documents as docs
from tests.app.helpers import csrf_token, login
from tests.app.workers import WorkerProcess, wait_for
from tests.conftest import ADMIN_PASSWORD, CliResult, run_cli

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers


@pytest.fixture
def instance_settings(broker_settings: Settings) -> Settings:
    return broker_settings  # every test here runs on the embedded broker and on Redis


def viewer_text(pdf: bytes) -> str:
    """The first page's text as a viewer finds it (PDFium, Chromium's PDF engine). pypdf
    puts a NUL before every character of the OCR text layer (PDFium and poppler read it
    cleanly), so it is not the reference here."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[0].get_textpage().get_text_range()
    finally:
        document.close()


def tesseract_languages() -> set[str]:
    import pytesseract

    return set(pytesseract.get_languages(config=""))


def _files(folder: Path) -> dict[str, Path]:
    docs.require_cjk_font()
    folder.mkdir()
    contract = docs.write_png(docs.render_page(docs.CONTRACT_LINES), folder / "contract.png")
    invoice = docs.write_scanned_pdf(
        [docs.render_page(docs.ENGLISH_INVOICE_LINES)], folder / "invoice.pdf"
    )
    born_digital = docs.write_text_pdf(
        [["Service Agreement", "Late delivery incurs a penalty."]], folder / "agreement.pdf"
    )
    return {
        "contract.png": contract,
        "invoice.pdf": invoice,
        "agreement.pdf": born_digital,
        "empty.pdf": docs.write_empty(folder / "empty.pdf"),
        "truncated.pdf": docs.write_truncated(invoice, folder / "truncated.pdf"),
        "secret.pdf": docs.write_encrypted_pdf(born_digital, folder / "secret.pdf"),
        "bomb.png": docs.write_bomb_png(folder / "bomb.png"),
        "notes.pdf": docs.write_text_as_pdf(folder / "notes.pdf"),
    }


# The two deployments (as in test_recovery.py): one machine with nothing to run, and
# several with servers; a real worker is what these tests are about, not the pairing.
DEPLOYMENTS = pytest.mark.parametrize(
    ("database_kind", "broker"),
    [("sqlite", "embedded"), ("postgresql", "redis")],
    indirect=["broker"],
)


@DEPLOYMENTS
def test_batch_import_with_a_real_worker(
    container: Container, admin: User, archive_number: str, worker: WorkerProcess, tmp_path: Path
) -> None:
    files = _files(tmp_path / "scans")
    items = [IntakeItem(path=path, filename=name) for name, path in files.items()]
    items.append(IntakeItem(path=files["contract.png"], filename="../../etc/passwd.png"))
    results = {
        r.file: r
        for r in take_in(container, admin.id, archive_number, items, default_class="contract")
    }

    assert {name for name, r in results.items() if r.status == "queued"} == {
        "contract.png",
        "invoice.pdf",
        "agreement.pdf",
    }
    expected_codes = {
        "empty.pdf": "empty",
        "truncated.pdf": "corrupt",
        "secret.pdf": "encrypted",
        "bomb.png": "too_many_pixels",
        "notes.pdf": "unsupported_type",
        "../../etc/passwd.png": "unsafe_filename",
    }
    for name, code in expected_codes.items():
        assert results[name].status == "rejected", (name, results[name])
        assert results[name].code == code, (name, results[name])
        assert results[name].error
    numbers = [results[name].document for name in ("contract.png", "invoice.pdf", "agreement.pdf")]
    year = numbers[0].split("-")[-2]
    assert numbers == [f"{archive_number}-HT-{year}-000{i}" for i in (1, 2, 3)]

    ready = wait_for(container.database, numbers, {"ready", "failed"}, worker=worker)
    assert {n: d.status.value for n, d in ready.items()} == dict.fromkeys(numbers, "ready"), {
        n: d.failure_reason for n, d in ready.items()
    }

    with container.database.session() as session:
        contract = documents.view_document(session, admin, numbers[0])
        assert contract.extraction_method == "ocr"
        reading = documents.read_reading(container, session, admin, numbers[0])
        # The title is a suggestion until accepted; nothing from the text is saved as fact.
        assert contract.title == "" and reading.suggestions["title"]["value"] == "采购合同"
        assert reading.suggestions["fields"]["contract_number"]["value"] == "HT-2026-0315"
        assert reading.pages[0]["engine"] == "paddle" and reading.pdfa == "2b"
        # Suggestions are document text: only the encrypted reading holds them.
        assert not hasattr(contract, "suggestions")
        text = "".join(
            page["text"] for page in documents.read_text(container, session, admin, numbers[0])
        )
        assert "违约金" in text
        agreement = documents.view_document(session, admin, numbers[2])
        assert agreement.extraction_method == "text-layer"
        invoice_text = documents.read_text(container, session, admin, numbers[1])[0]["text"]
        assert "INV-20417" in invoice_text

        # The searchable PDF has the OCR text in its text layer; the original is byte-exact.
        handle = documents.prepare_export(session, admin, numbers[1], "pdf")
        pdf = b"".join(documents.stream_export(container, handle))
        assert "INV-20417" in viewer_text(pdf)
        original = documents.prepare_export(session, admin, numbers[0], "original")
        assert (
            b"".join(documents.stream_export(container, original))
            == files["contract.png"].read_bytes()
        )

    # Duplicates are reported with the existing number and not stored twice.
    objects_before = sum(1 for _ in container.store.iter_objects())
    again = take_in(
        container, admin.id, archive_number, [IntakeItem(files["contract.png"], "copy.png")]
    )
    assert again[0].status == "duplicate"
    assert again[0].document == numbers[0]
    assert sum(1 for _ in container.store.iter_objects()) == objects_before

    # Rejected files left nothing behind: 3 documents x (original, text, rendition).
    assert objects_before == 9
    with container.database.session() as session:
        assert session.scalar(select(func.count(Document.id))) == 3
        rejected = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "document.rejected")
        ).all()
        assert len(rejected) == 6


@DEPLOYMENTS
def test_killed_job_is_retried_to_success(
    container: Container,
    admin: User,
    archive_number: str,
    instance_settings: Settings,
    tmp_path: Path,
) -> None:
    docs.require_cjk_font()
    # Three pages: the worker is killed mid-document, which the first page already is.
    pages = [docs.render_page([f"第{i}页 合同附件", *docs.CONTRACT_LINES * 2]) for i in range(1, 4)]
    path = docs.write_scanned_pdf(pages, tmp_path / "long.pdf")
    first = WorkerProcess(instance_settings, tmp_path / "first.log")
    try:
        [result] = take_in(container, admin.id, archive_number, [IntakeItem(path, "long.pdf")])
        number = result.document
        assert number is not None
        # Kill the worker as soon as it is working on the document.
        _wait_processing(container.database, number, first)
        first.kill()
    finally:
        first.stop()
    with container.database.session() as session:
        stuck = session.scalars(select(Document).where(Document.number == number)).one()
        assert stuck.status.value == "processing"
        documents.retry_document(container, session, admin, number, force=True)
        document_id = stuck.id
    container.enqueue_processing(document_id)
    second = WorkerProcess(instance_settings, tmp_path / "second.log")
    try:
        done = wait_for(container.database, [number], {"ready", "failed"}, worker=second)
    finally:
        second.stop()
    assert done[number].status.value == "ready", done[number].failure_reason
    assert done[number].page_count == 3
    with container.database.session() as session:
        pages_text = documents.read_text(container, session, admin, number)
    assert len(pages_text) == 3
    assert all("违约金" in page["text"] for page in pages_text)
    # Only the objects of the successful run remain: original, text, rendition.
    assert sum(1 for _ in container.store.iter_objects()) == 3


def _wait_processing(database: Database, number: str, worker: WorkerProcess) -> None:
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with database.session() as session:
            document = session.scalars(
                select(Document).where(Document.number == number)
            ).one_or_none()
            if document is not None and document.status.value == "processing":
                return
        if worker.process.poll() is not None:
            raise AssertionError(worker.output())
        time.sleep(0.1)
    raise AssertionError(
        f"the worker did not pick the document up within two minutes\n{worker.output()}"
    )


@pytest.mark.parametrize("broker", ["embedded"], indirect=True)
def test_web_upload_failure_and_retry(
    container: Container,
    instance_settings: Settings,
    archive_number: str,
    tmp_path: Path,
) -> None:
    docs.require_cjk_font()
    app = create_app(instance_settings, testing=True)
    admin_client = app.test_client()
    assert login(admin_client, "admin", ADMIN_PASSWORD).status_code == 302
    page = admin_client.get(f"/archives/{archive_number}/upload")
    assert page.status_code == 200
    token = csrf_token(admin_client, f"/archives/{archive_number}")
    image = docs.write_png(docs.render_page(docs.INVOICE_LINES), tmp_path / "发票.png")
    # A worker whose OCR engine lacks a language refuses to start, in one line: the document
    # waits instead of failing.
    broken = WorkerProcess(
        instance_settings, tmp_path / "broken.log", ARCHIVE_OCR_LANGUAGES="klingon"
    )
    try:
        response = admin_client.post(
            f"/archives/{archive_number}/documents",
            data={"files": [(image.open("rb"), "发票.png")], "class": "invoice"},
            headers={"X-CSRFToken": token},
            content_type="multipart/form-data",
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        [result] = response.get_json()
        assert result["status"] == "queued"
        number = result["document"]
        assert "-FP-" in number
        assert broken.process.wait(timeout=60) == 1
    finally:
        broken.stop()
    assert broken.output().strip().splitlines()[-1] == (
        "archive: tesseract: language data not installed: klingon"
        " (installed: " + ", ".join(sorted(tesseract_languages())) + ")"
    )
    with container.database.session() as session:
        queued = session.scalar(select(Document).where(Document.number == number))
        assert queued is not None and queued.status.value == "queued"
        # An earlier run failed it (the store was unreachable, say): the archivist retries.
        queued.status = DocumentStatus.FAILED
        queued.failure_reason = "storage: unreachable"
    status = admin_client.get(f"/documents/status?ids={result['id']}").get_json()
    assert status[0]["status"] == "failed"
    detail = admin_client.get(f"/documents/{number}").get_data(as_text=True)
    # Said in the reader's language (the instance's default here is Chinese).
    assert "无法读取已存储的文件" in detail and "storage: unreachable" not in detail

    healthy = WorkerProcess(instance_settings, tmp_path / "healthy.log")
    try:
        response = admin_client.post(f"/documents/{number}/retry", data={"csrf_token": token})
        assert response.status_code == 302
        done = wait_for(container.database, [number], {"ready", "failed"}, worker=healthy)
    finally:
        healthy.stop()
    assert done[number].status.value == "ready", done[number].failure_reason
    detail = admin_client.get(f"/documents/{number}").get_data(as_text=True)
    assert "3100212130" in detail  # the suggested invoice code is offered in the form
    download = admin_client.get(f"/documents/{number}/original")
    assert download.status_code == 200
    assert download.data == image.read_bytes()
    assert "filename*=UTF-8''%E5%8F%91%E7%A5%A8.png" in download.headers["Content-Disposition"]

    # The archivist accepts the suggestions; the values are validated and audited.
    response = admin_client.post(
        f"/documents/{number}",
        data={
            "csrf_token": token,
            "class": "invoice",
            "title": "增值税专用发票",
            "field:invoice_code": "3100212130",
            "field:invoice_number": "0874129",
            "field:invoice_date": "2026-03-18",
            "field:amount": "12,000.00",
            "field:tax": "",
        },
    )
    assert response.status_code == 422
    # Said in the page's language (Chinese, the default).
    assert "须为 8 位或 20 位数字" in response.get_data(as_text=True)
    response = admin_client.post(
        f"/documents/{number}",
        data={
            "csrf_token": token,
            "class": "invoice",
            "title": "增值税专用发票",
            "field:invoice_code": "3100212130",
            "field:invoice_number": "08741295",
            "field:invoice_date": "2026年3月18日",
            "field:amount": "¥12,000.00",
            "field:tax": "",
        },
    )
    assert response.status_code == 302
    with container.database.session() as session:
        document = session.scalars(select(Document).where(Document.number == number)).one()
        assert document.fields == {
            "invoice_code": "3100212130",
            "invoice_number": "08741295",
            "invoice_date": "2026-03-18",
            "amount": "12000.00",
        }
        update = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "document.update")
        ).one()
        assert update.after["field:amount"] == "12000.00"
        assert json.dumps(update.before, ensure_ascii=False)


# The command line's output and exit codes over intake, which the tests above run on both
# databases: once, on PostgreSQL.
@pytest.mark.parametrize(
    ("database_kind", "broker"), [("postgresql", "embedded")], indirect=["broker"]
)
def test_cli_import_wait_json_then_show_edit_export(
    instance_settings: Settings, archive_number: str, worker: WorkerProcess, tmp_path: Path
) -> None:
    from tests.app.workers import worker_env

    folder = tmp_path / "batch"
    (folder / "sub").mkdir(parents=True)
    docs.require_cjk_font()
    docs.write_png(docs.render_page(docs.INVOICE_LINES), folder / "sub" / "invoice.png")
    docs.write_empty(folder / "empty.png")
    env = worker_env(instance_settings)

    def archive(*args: str) -> CliResult:
        return run_cli(env, *args)

    result = archive(
        "import", str(folder), "--archive", archive_number, "--class", "invoice", "--wait", "--json"
    )
    assert result.returncode == 1, result.stderr  # one file was refused
    assert result.stdout.strip(), f"no JSON on stdout; stderr: {result.stderr}"
    rows = sorted(json.loads(result.stdout), key=lambda row: row["file"])
    assert rows[0] == {
        "file": "empty.png",
        "document": None,
        "status": "rejected",
        "error": "the file is empty",
    }
    assert rows[1]["file"] == "invoice.png"
    assert rows[1]["status"] == "ready"
    number = rows[1]["document"]

    shown = json.loads(archive("show", number, "--text", "--json").stdout)
    assert shown["status"] == "ready"
    assert "3100212130" in shown["text"]
    assert shown["suggestions"]["fields"]["invoice_code"]["value"] == "3100212130"
    assert shown["page_readings"][0]["engine"] == "paddle"
    assert shown["page_readings"][0]["confidence"] > 80 and shown["pdfa"] == "2b"
    assert shown["checklist"]["state"] == "draft"
    assert shown["checklist"]["responsible"] == "admin"
    assert shown["checklist"]["paper_location"] is None

    result = archive("edit", number, "--set", "invoice_number=123", "--json")
    assert result.returncode == 1
    assert result.stderr.strip() == "archive: invalid input: invoice_number: must be 8 or 20 digits"
    result = archive("edit", number, "--accept-suggestions", "--json")
    assert result.returncode == 0, result.stderr
    edited = json.loads(result.stdout)
    assert edited["fields"]["invoice_code"] == "3100212130"
    assert edited["fields"]["invoice_number"] == "08741295"

    out = tmp_path / "copy.png"
    result = archive("export", number, "--original", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == (folder / "sub" / "invoice.png").read_bytes()
    pdf = tmp_path / "copy.pdf"
    assert archive("export", number, "--pdf", "-o", str(pdf)).returncode == 0
    assert "3100212130" in viewer_text(pdf.read_bytes())
    result = archive("retry", number)
    assert result.returncode == 1
    assert "only failed documents can be retried" in result.stderr


@pytest.mark.parametrize(
    ("database_kind", "broker"),
    [("sqlite", "embedded"), ("postgresql", "redis")],
    indirect=["broker"],
)
def test_cli_import_wait_without_a_worker_extracts_here(
    instance_settings: Settings, archive_number: str, tmp_path: Path
) -> None:
    from tests.app.workers import worker_env

    folder = tmp_path / "scans"
    folder.mkdir()
    docs.write_text_pdf(
        [["Service Agreement", "Late delivery incurs a penalty."]], folder / "a.pdf"
    )
    (folder / "b-copy.pdf").write_bytes((folder / "a.pdf").read_bytes())
    docs.write_png(docs.render_page(docs.ENGLISH_INVOICE_LINES), folder / "c.png")
    env = worker_env(instance_settings)

    result = run_cli(env, "import", str(folder), "--archive", archive_number, "--wait", "--json")
    assert result.returncode == 0, result.stderr
    assert "no background worker is running: extracting here" in result.stderr
    rows = {row["file"]: row for row in json.loads(result.stdout)}
    assert rows["a.pdf"]["status"] == rows["c.png"]["status"] == "ready"
    assert rows["b-copy.pdf"] == {
        "file": "b-copy.pdf",
        "document": rows["a.pdf"]["document"],
        "status": "duplicate",
        "error": f"already filed in this archive as {rows['a.pdf']['document']}",
    }
    shown = json.loads(run_cli(env, "show", rows["c.png"]["document"], "--text", "--json").stdout)
    assert "INV-20417" in shown["text"]

    # Without --wait the files are queued, and the command says that nothing will take them.
    docs.write_text_pdf([["Second agreement"]], tmp_path / "d.pdf")
    result = run_cli(env, "import", str(tmp_path / "d.pdf"), "--archive", archive_number)
    assert result.returncode == 0, result.stderr
    assert "no background worker is running" in result.stderr
    assert "`archive worker`" in result.stderr
