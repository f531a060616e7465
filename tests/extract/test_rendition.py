"""Searchable PDF rendition: page images with an invisible, extractable text layer."""

from __future__ import annotations

import io

import pypdf
import pytest

from indexing.extract import (
    ExtractOptions,
    build_rendition,
    extract,
    is_original_searchable,
    preflight,
)
from tests import documents as docs


def pdf_texts(data: bytes) -> list[str]:
    return ["".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(data)).pages]


@pytest.fixture(scope="module")
def scan_with_rotation(folder, contract_page, english_page, tesseract):
    """Two image pages, the second scanned upside down."""
    path = docs.write_scanned_pdf(
        [contract_page, docs.rotate_page(english_page, 180)], folder / "rend-scan.pdf"
    )
    info = preflight(path, "rend-scan.pdf")
    return path, info, extract(path, info)


def test_scanned_pdf_rendition_has_text_and_page_count(scan_with_rotation):
    path, info, result = scan_with_rotation
    data = build_rendition(path, result, info)
    texts = pdf_texts(data)
    assert len(texts) == 2
    assert "违约金" in texts[0] and "合同" in texts[0]
    assert "INV-20417" in texts[1]  # the upside-down page is searchable...
    page = pypdf.PdfReader(io.BytesIO(data)).pages[1]
    # ...and stored upright: the same shape as the original page (landscape stays landscape)
    assert float(page.mediabox.width) > float(page.mediabox.height)


def test_rendition_written_to_a_path(scan_with_rotation, tmp_path):
    path, info, result = scan_with_rotation
    dest = tmp_path / "out.pdf"
    assert build_rendition(path, result, info, dest=dest) is None
    assert len(pypdf.PdfReader(dest).pages) == 2
    assert list(tmp_path.iterdir()) == [dest]  # nothing else left behind


def test_born_digital_pdf_is_its_own_rendition(text_pdf, tesseract):
    info = preflight(text_pdf, "born-digital.pdf")
    result = extract(text_pdf, info)
    assert is_original_searchable(result)
    assert build_rendition(text_pdf, result, info) == text_pdf.read_bytes()


def test_image_rendition_without_kept_overlays_reads_the_page_again(
    folder, contract_page, tesseract
):
    path = docs.write_jpeg(contract_page, folder / "rend.jpg")
    info = preflight(path, "rend.jpg")
    result = extract(path, info, options=ExtractOptions(keep_overlays=False))
    assert result.pages[0].overlay_pdf is None
    texts = pdf_texts(build_rendition(path, result, info))
    assert len(texts) == 1 and "违约金" in texts[0]


def test_multipage_tiff_rendition(folder, contract_page, english_page, tesseract):
    path = docs.write_tiff([contract_page, english_page], folder / "rend.tif")
    info = preflight(path, "rend.tif")
    texts = pdf_texts(build_rendition(path, extract(path, info), info))
    assert len(texts) == 2 and "INV-20417" in texts[1]


def test_sideways_page_is_shown_upright_with_its_text(folder, english_page, tesseract):
    path = docs.write_png(docs.rotate_page(english_page, 90), folder / "side.png")
    info = preflight(path, "side.png")
    result = extract(path, info)
    assert result.pages[0].rotation == 90
    page = pypdf.PdfReader(io.BytesIO(build_rendition(path, result, info))).pages[0]
    # Image and invisible text are stored as scanned and turned together for display, or the
    # image was turned before OCR; either way the viewer shows the page upright.
    assert (page.rotation + result.pages[0].ocr_rotation) % 360 == 90
    assert "INV-20417" in "".join(page.extract_text().split())
