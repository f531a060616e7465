"""Searchable PDF rendition: the page images with the recognised text invisible on top, as an
archival PDF/A-2b file.

Contract: ``build_rendition(path, extraction, info)`` returns a ``Rendition``: the PDF bytes
and the PDF/A part it conforms to (``"2b"``), or None when it could not be made conformant.
Everything happens in memory (the caller encrypts what it stores); page count equals the
document's.

Decisions:
* A PDF whose every page had a usable text layer is already searchable: its rendition is the
  original file, byte for byte (re-rendering it would lose vector quality and fonts), and it
  is PDF/A only if it was.
* Otherwise a new PDF is built page by page. A page read from its text layer is copied from
  the original. An OCR'd page becomes its image (JPEG for gray and colour: a viewing copy,
  since the original is kept unchanged beside it; bilevel scans stay bilevel, CCITT G4) with
  an invisible text layer placed from the word boxes of the kept reading (``overlay``). The
  image is turned as it was for that reading; any turn the engine coped with by itself
  becomes the page's /Rotate, so viewers show the page upright and image and text turn
  together.
* PDF/A-2b: pikepdf prepares the file (sRGB output intent, XMP identification, metadata that
  agrees with it) and its PDF/A validator (an allow-list: it approves only what it knows
  conforms) checks the bytes written. A file it does not approve (e.g. a copied text-layer
  page whose fonts are not embedded) is kept as a plain PDF, and ``pdfa`` says so.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from PIL import Image

from .pipeline import Extraction, ExtractOptions, PageText
from .preflight import Preflight
from .raster import PageSource, rotate_upright

__all__ = ["PDFA_PART", "Rendition", "build_rendition", "is_original_searchable"]

UNKNOWN_DPI = 200  # page size for images that do not state their resolution (typical scans)
PDFA_PART = "2b"


@dataclass(frozen=True)
class Rendition:
    data: bytes = field(repr=False)
    pdfa: str | None  # the PDF/A part the file was validated against, or None


def is_original_searchable(extraction: Extraction) -> bool:
    return extraction.kind == "pdf" and all(p.method == "text-layer" for p in extraction.pages)


def build_rendition(
    path: str | os.PathLike[str],
    extraction: Extraction,
    info: Preflight,
    *,
    options: ExtractOptions | None = None,
    jpeg_quality: int = 75,
) -> Rendition:
    if is_original_searchable(extraction):
        data = Path(path).read_bytes()
        return Rendition(data, PDFA_PART if _validates(data) else None)

    options = options or ExtractOptions(languages=extraction.languages)
    out = pikepdf.new()
    original = pikepdf.open(path) if info.kind == "pdf" else None
    try:
        with PageSource(path, info.kind, info.pages, options.dpi, options.max_pixels) as source:
            for page in extraction.pages:
                if page.method == "text-layer" and original is not None:
                    out.pages.append(original.pages[page.number - 1])
                    continue
                image = rotate_upright(source.load(page.number - 1, color=True), page.ocr_rotation)
                dpi = source.dpi(page.number - 1) or UNKNOWN_DPI
                _add_ocr_page(out, image, dpi, page, jpeg_quality)
                del image
        return _save(out)
    finally:
        if original is not None:
            original.close()
        out.close()


def _image_pdf(image: Image.Image, dpi: int, quality: int) -> bytes:
    buffer = io.BytesIO()
    if image.mode == "1":
        # Bilevel pages (fax G4 TIFF, 1-bit PNG) are stored losslessly and small as CCITT G4;
        # a JPEG quality setting would not apply to them.
        image.save(buffer, "PDF", resolution=float(dpi))
    else:
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        image.save(buffer, "PDF", resolution=float(dpi), quality=quality)
    return buffer.getvalue()


def _add_ocr_page(
    out: pikepdf.Pdf, image: Image.Image, dpi: int, page: PageText, quality: int
) -> None:
    from .overlay import text_layer_page

    with pikepdf.open(io.BytesIO(_image_pdf(image, dpi, quality))) as picture:
        out.pages.append(picture.pages[0])
    added = out.pages[-1]
    if page.words:
        size = page.image_size if page.image_size != (0, 0) else image.size
        with pikepdf.open(io.BytesIO(text_layer_page(page.words, size, dpi))) as text:
            # Scaled onto the image's box: the text page is sized from the same pixels.
            added.add_underlay(text.pages[0])
    # The engine read the rest of the turn by itself: the viewer turns image and invisible
    # text together, so they stay aligned.
    rest = (page.rotation - page.ocr_rotation) % 360
    if rest:
        added.rotate(rest, relative=True)


def _save(pdf: pikepdf.Pdf) -> Rendition:
    from pikepdf.pdfa import prepare, resolve_save_kwargs

    prepare(pdf, PDFA_PART, output_intent="sRGB")
    buffer = io.BytesIO()
    pdf.save(buffer, **resolve_save_kwargs(PDFA_PART))
    data = buffer.getvalue()
    return Rendition(data, PDFA_PART if _validates(data) else None)


def _validates(data: bytes) -> bool:
    """Whether pikepdf's PDF/A validator approves ``data`` as PDF/A-2b (in memory)."""
    from pikepdf.pdfa import validate_written

    return validate_written(io.BytesIO(data), PDFA_PART).passed
