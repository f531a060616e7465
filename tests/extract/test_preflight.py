"""Preflight: type by content, real parsing, and a specific code for every rejection."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexing.extract import Limits, PreflightRejected, RejectCode, check_filename, preflight
from tests import documents as docs


def rejected(path: Path, name: str | None = None, **limits) -> PreflightRejected:
    with pytest.raises(PreflightRejected) as info:
        preflight(path, name if name is not None else path.name, limits=Limits(**limits))
    return info.value


def test_png_jpeg_and_multipage_tiff_are_accepted(folder, contract_page, english_page):
    png = preflight(docs.write_png(contract_page, folder / "p.png"), "p.png")
    assert (png.kind, png.mime, png.pages, png.pixel_size) == (
        "png", "image/png", 1, contract_page.size,
    )  # fmt: skip
    assert png.dpi == 300
    jpeg = preflight(docs.write_jpeg(contract_page, folder / "p.jpg"), "p.jpg")
    assert (jpeg.kind, jpeg.mime, jpeg.pages) == ("jpeg", "image/jpeg", 1)
    tiff = preflight(docs.write_tiff([contract_page, english_page], folder / "p.tif"), "p.tif")
    assert (tiff.kind, tiff.mime, tiff.pages) == ("tiff", "image/tiff", 2)


def test_scanned_and_born_digital_pdfs_are_accepted(scanned_pdf, text_pdf):
    scan = preflight(scanned_pdf, "scan.pdf")
    assert (scan.kind, scan.mime, scan.pages) == ("pdf", "application/pdf", 2)
    born = preflight(text_pdf, "born-digital.pdf")
    assert born.pages == 2 and born.pixel_size == (2479, 3508)  # A4 at 300 dpi


def test_type_comes_from_content_not_name(folder, contract_page):
    path = docs.write_png(contract_page, folder / "really-a-png.pdf")
    assert preflight(path, "really-a-png.pdf").kind == "png"


def test_empty_file(folder):
    assert rejected(docs.write_empty(folder / "empty.pdf")).code == RejectCode.EMPTY


def test_text_file_named_pdf_is_unsupported(folder):
    error = rejected(docs.write_text_as_pdf(folder / "notes.pdf"))
    assert error.code == RejectCode.UNSUPPORTED_TYPE
    assert error.filename == "notes.pdf" and "PDF" in error.message


def test_truncated_pdf_is_corrupt(folder, scanned_pdf):
    path = docs.write_truncated(scanned_pdf, folder / "cut.pdf")
    assert rejected(path).code == RejectCode.CORRUPT


def test_truncated_jpeg_is_corrupt(folder, contract_page):
    full = docs.write_jpeg(contract_page, folder / "full.jpg")
    path = docs.write_truncated(full, folder / "cut.jpg")
    assert rejected(path).code == RejectCode.CORRUPT


def test_truncated_png_is_corrupt(folder, contract_page):
    full = docs.write_png(contract_page, folder / "full.png")
    assert rejected(docs.write_truncated(full, folder / "cut.png")).code == RejectCode.CORRUPT


def test_password_protected_pdf(folder, scanned_pdf):
    path = docs.write_encrypted_pdf(scanned_pdf, folder / "locked.pdf")
    error = rejected(path)
    assert error.code == RejectCode.ENCRYPTED and "password" in error.message


def test_decompression_bomb_is_refused_from_the_header(folder):
    path = docs.write_bomb_png(folder / "bomb.png")
    assert path.stat().st_size < 10_000
    assert rejected(path).code == RejectCode.TOO_MANY_PIXELS


def test_pixel_limit_is_configurable(folder, contract_page):
    path = docs.write_png(contract_page, folder / "limit.png")
    assert rejected(path, max_pixels=1000).code == RejectCode.TOO_MANY_PIXELS


def test_too_large(folder, scanned_pdf):
    assert rejected(scanned_pdf, max_bytes=1000).code == RejectCode.TOO_LARGE


def test_too_many_pages(folder, scanned_pdf, contract_page):
    assert rejected(scanned_pdf, max_pages=1).code == RejectCode.TOO_MANY_PAGES
    tiff = docs.write_tiff([contract_page] * 3, folder / "three.tif")
    assert rejected(tiff, max_pages=2).code == RejectCode.TOO_MANY_PAGES


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..",
        "/etc/passwd",
        "C:\\Windows\\system.ini",
        "dir/file.pdf",
        "bad\x00name.pdf",
        "bell\x07.pdf",
        "rtl\u202efdp.exe",
        "x" * 300 + ".pdf",
        "合" * 90 + ".pdf",  # 270 bytes of UTF-8
        "",
    ],
)
def test_unsafe_file_names(folder, contract_page, name):
    path = docs.write_png(contract_page, folder / "safe.png")
    error = rejected(path, name)
    assert error.code == RejectCode.UNSAFE_FILENAME


def test_ordinary_file_names_are_fine():
    for name in ("合同 2026-03 (扫描).pdf", "invoice_42.PNG", ".hidden.jpg", "a..b.pdf"):
        assert check_filename(name) == name


def test_error_carries_data_and_reads_well(folder):
    error = rejected(docs.write_empty(folder / "empty2.pdf"), "report.pdf")
    assert error.code == "empty" and error.filename == "report.pdf"
    assert "report.pdf" in str(error) and "empty" in str(error)
