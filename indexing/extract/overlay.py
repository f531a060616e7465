"""The invisible text of one OCR page, placed from the word boxes of the reading that was kept.

Contract: ``text_layer_page(page, dpi)`` returns a one-page PDF (bytes) the size of the image
the boxes refer to (``page.image_size`` at ``dpi``), holding every word of ``page`` as
invisible text (render mode 3) over its box, in reading order (``layout``), so selecting and
searching in a viewer finds the words where they are on the image. Fonts are embedded (as
PDF/A requires), chosen per word by the glyphs it needs (Chinese words get a CJK font).

Rendering is OCRmyPDF's fpdf2 text-layer renderer (the one its own plugins use): it fits each
word's text to its box (horizontal scaling), handles baselines and CJK, and picks fonts from
the ones installed. Our words become its ``OcrElement`` tree: page, lines, words.
"""

from __future__ import annotations

import functools

from .engine import Word
from .layout import reading_order

__all__ = ["text_layer_page"]


@functools.cache
def _fonts():
    from ocrmypdf.font import MultiFontManager

    return MultiFontManager()


def _elements(words: tuple[Word, ...], size: tuple[int, int]):
    from ocrmypdf.models.ocr_element import BoundingBox, OcrClass, OcrElement

    lines: dict[int, list[Word]] = {}
    for word in words:
        if word.text.strip() and word.box[2] > 0 and word.box[3] > 0:
            lines.setdefault(word.line, []).append(word)
    # Lines in reading order, so text copied from the PDF reads as the extracted text does.
    ordered = [segment.line for row in reading_order(words) for segment in row]
    elements = []
    for line in (lines[number] for number in ordered if number in lines):
        children = [
            OcrElement(
                ocr_class=OcrClass.WORD,
                text=w.text.strip(),
                bbox=BoundingBox(w.box[0], w.box[1], w.box[0] + w.box[2], w.box[1] + w.box[3]),
            )
            for w in sorted(line, key=lambda w: w.box[0])
        ]
        left = min(c.bbox.left for c in children)
        top = min(c.bbox.top for c in children)
        right = max(c.bbox.right for c in children)
        bottom = max(c.bbox.bottom for c in children)
        elements.append(
            OcrElement(
                ocr_class=OcrClass.LINE,
                bbox=BoundingBox(left, top, right, bottom),
                children=children,
            )
        )
    return OcrElement(
        ocr_class=OcrClass.PAGE, bbox=BoundingBox(0, 0, size[0], size[1]), children=elements
    )


def text_layer_page(words: tuple[Word, ...], size: tuple[int, int], dpi: float) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import TextMode
    from ocrmypdf.fpdf_renderer import Fpdf2PdfRenderer

    renderer = Fpdf2PdfRenderer(_elements(words, size), dpi, _fonts(), invisible_text=True)
    pdf = FPDF(unit="pt", format=(size[0] * 72 / dpi, size[1] * 72 / dpi))
    pdf.set_auto_page_break(auto=False)
    pdf.c_margin = 0
    pdf.text_mode = TextMode.INVISIBLE
    renderer.render_to_pdf(pdf)
    return bytes(pdf.output())
