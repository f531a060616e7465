"""Page images: modes handed to OCR, contrast decisions, exact rotations, PDF rendering."""

from __future__ import annotations

from PIL import Image

from indexing.extract.raster import (
    PageSource,
    enhance_local,
    for_ocr,
    is_low_contrast,
    rotate_upright,
    to_gray,
)
from indexing.extract.textlayer import read_text_layer
from tests import documents as docs


def test_ocr_gets_the_pixels_as_they_are_when_it_can():
    for mode in ("1", "L", "RGB"):
        image = Image.new(mode, (4, 4))
        assert for_ocr(image) is image
    assert for_ocr(Image.new("CMYK", (4, 4))).mode == "RGB"


def test_transparent_background_becomes_white_paper():
    image = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert to_gray(image).getextrema() == (255, 255)
    assert for_ocr(image).getextrema() == (255, 255)


def test_faded_receipt_is_low_contrast_and_a_normal_page_is_not(cjk_font):
    faded = docs.faded_receipt()
    assert is_low_contrast(faded)
    assert not is_low_contrast(docs.render_page(docs.RECEIPT_LINES))
    enhanced = enhance_local(faded)
    assert not is_low_contrast(enhanced)  # the print is dark after the enhancement


def test_dark_scan_edges_do_not_hide_a_faded_page(cjk_font):
    faded = docs.faded_receipt(edges=90)
    dark = sum(faded.histogram()[:128]) / (faded.width * faded.height)
    assert dark > 0.05  # a global count sees plenty of "ink": the edges
    assert is_low_contrast(faded)
    assert not is_low_contrast(docs.bilevel(docs.render_page(docs.RECEIPT_LINES)).convert("L"))


def test_rotations_are_exact_and_inverse_to_the_test_generator():
    image = Image.new("L", (30, 10), 255)
    image.putpixel((0, 0), 0)  # top-left marker
    for degrees in (90, 180, 270):
        turned = docs.rotate_page(image, degrees)  # counter-clockwise, as fed to a scanner
        upright = rotate_upright(turned, degrees)  # clockwise back
        assert upright.size == image.size and upright.getpixel((0, 0)) == 0
    assert rotate_upright(image, 0) is image


def test_pdf_pages_render_at_300_dpi_and_huge_pages_lower(folder, text_pdf):
    with PageSource(text_pdf, "pdf", 2) as source:
        assert source.dpi(0) == 300
        w, h = source.load(0).size
        assert abs(w - 2480) <= 1 and abs(h - 3508) <= 1  # A4 at 300 dpi, rounding aside
        assert source.load(1, color=True).mode == "RGB"
    with PageSource(text_pdf, "pdf", 2, max_pixels=1_000_000) as source:
        dpi = source.dpi(0)
        w, h = source.load(0).size
        assert dpi < 300 and w * h <= 1_000_000


def test_text_layer_without_poppler_falls_back_to_pypdf(text_pdf, monkeypatch):
    import indexing.extract.textlayer as textlayer

    monkeypatch.setattr(textlayer.shutil, "which", lambda name: None)
    pages = read_text_layer(text_pdf)
    assert [p.usable for p in pages] == [True, True]
    assert "INV-20417" in pages[0].text and "违约金" in pages[1].text


def test_orientation_from_the_direction_words_advance():
    from indexing.extract.engine import PageOcr, Word

    def line(*points):
        return tuple(Word("ab", 90.0, 0, (x, y, 10, 10)) for x, y in points)

    assert PageOcr.orientation_of(line((0, 0), (50, 2))) == 0
    assert PageOcr.orientation_of(line((50, 0), (0, 1))) == 180
    assert PageOcr.orientation_of(line((0, 50), (1, 0))) == 90
    assert PageOcr.orientation_of(line((0, 0), (1, 50))) == 270
    assert PageOcr.orientation_of(line((0, 0))) == 0  # one word: no direction, assume upright
