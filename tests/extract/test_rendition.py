"""Searchable PDF rendition: page images with an invisible, extractable text layer, PDF/A-2b.

Conformance is checked with pikepdf's PDF/A validator (an allow-list validator: it approves
only constructs it knows to conform). veraPDF, the reference validator, is a Java program that
no package registry this project installs from carries.
"""

from __future__ import annotations

import io

import pikepdf
import pypdf
import pypdfium2
import pytest
from pikepdf.pdfa import validate_written

from indexing.extract import (
    ExtractOptions,
    build_rendition,
    extract,
    is_original_searchable,
    preflight,
)
from tests import documents as docs

ONE = ExtractOptions(workers=1)


def pdf_texts(data: bytes) -> list[str]:
    """The text a viewer finds on each page (PDFium, the engine of Chromium's viewer)."""
    document = pypdfium2.PdfDocument(data)
    try:
        return ["".join(page.get_textpage().get_text_range().split()) for page in document]
    finally:
        document.close()


def assert_pdfa_2b(data: bytes) -> None:
    report = validate_written(io.BytesIO(data), "2b")
    assert report.passed, report.summary()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        assert len(pdf.Root.OutputIntents) == 1


@pytest.fixture(scope="module")
def scan_with_rotation(folder, contract_page, english_page, engines):
    """Two image pages, the second scanned upside down."""
    path = docs.write_scanned_pdf(
        [contract_page, docs.rotate_page(english_page, 180)], folder / "rend-scan.pdf"
    )
    info = preflight(path, "rend-scan.pdf")
    return path, info, extract(path, info, options=ONE, engines=engines)


def test_scanned_pdf_rendition_is_pdfa_with_text_and_page_count(scan_with_rotation):
    path, info, result = scan_with_rotation
    rendition = build_rendition(path, result, info)
    assert rendition.pdfa == "2b"
    assert_pdfa_2b(rendition.data)
    texts = pdf_texts(rendition.data)
    assert len(texts) == 2
    assert "违约金" in texts[0] and "合同" in texts[0]
    assert "INV-20417" in texts[1]  # the upside-down page is searchable...
    page = pypdf.PdfReader(io.BytesIO(rendition.data)).pages[1]
    # ...and stored upright: the same shape as the original page (landscape stays landscape)
    assert float(page.mediabox.width) > float(page.mediabox.height)


def test_text_layer_sits_on_the_words(folder, engines):
    """Selecting a word in the PDF selects it where it is on the image: its text is placed
    from the box the engine found."""
    page = docs.render_page(["左上角", "", "", "INV-20417"], width=1400)
    path = docs.write_png(page, folder / "place.png")
    info = preflight(path, "place.png")
    data = build_rendition(path, extract(path, info, options=ONE, engines=engines), info).data
    document = pypdfium2.PdfDocument(data)
    page = document[0]
    width, height = page.get_size()
    text = page.get_textpage()
    upper = text.get_text_bounded(0, height / 2, width, height)
    lower = text.get_text_bounded(0, 0, width, height / 2)
    document.close()
    assert "左上角" in upper and "INV" not in upper
    assert "INV-20417" in lower and "左上" not in lower


def test_born_digital_pdf_is_its_own_rendition(text_pdf, engines):
    info = preflight(text_pdf, "born-digital.pdf")
    result = extract(text_pdf, info, engines=engines)
    assert is_original_searchable(result)
    assert build_rendition(text_pdf, result, info).data == text_pdf.read_bytes()


@pytest.mark.parametrize("kind", ["g4-tiff", "png"])
def test_bilevel_scans_make_a_rendition(folder, english_page, engines, kind):
    """Fax G4 TIFFs and 1-bit PNGs: stored bilevel (no JPEG quality applies to them)."""
    if kind == "g4-tiff":
        path = docs.write_g4_tiff(english_page, folder / "fax.tif")
    else:
        path = docs.write_png(docs.bilevel(english_page), folder / "bilevel.png")
    info = preflight(path, path.name)
    rendition = build_rendition(path, extract(path, info, options=ONE, engines=engines), info)
    assert rendition.pdfa == "2b"
    assert "INV-20417" in pdf_texts(rendition.data)[0]
    with pikepdf.open(io.BytesIO(rendition.data)) as pdf:
        images = list(pikepdf.Page(pdf.pages[0]).get_images().values())
        assert images and images[0].BitsPerComponent == 1


def test_sideways_page_is_shown_upright_with_its_text(folder, english_page, engines):
    path = docs.write_png(docs.rotate_page(english_page, 90), folder / "side.png")
    info = preflight(path, "side.png")
    result = extract(path, info, options=ONE, engines=engines)
    assert result.pages[0].rotation == 90
    data = build_rendition(path, result, info).data
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    # Image and invisible text are stored as scanned and turned together for display, or the
    # image was turned before OCR; either way the viewer shows the page upright.
    assert (page.rotation + result.pages[0].ocr_rotation) % 360 == 90
    assert "INV-20417" in pdf_texts(data)[0]
