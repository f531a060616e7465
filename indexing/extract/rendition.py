"""Searchable PDF rendition: the page images with the recognised text invisible on top.

Contract: ``build_rendition(path, extraction, info)`` returns the rendition as bytes, or writes
it to ``dest`` if given (the caller encrypts what it stores; nothing is written anywhere else:
the rendition is assembled in memory, and the only temporary files are Tesseract's, in private
temporary folders removed after each call). Page count equals the document's.

Decisions:
* A PDF whose every page had a usable text layer is already searchable: its rendition is the
  original file, byte for byte (re-rendering it would lose vector quality and fonts).
* Otherwise a new PDF is built page by page. A page read from its text layer is copied from
  the original. An OCR'd page becomes its image stored as JPEG (a viewing copy: the original
  is always kept unchanged beside it) with Tesseract's invisible-text page (made in the OCR
  pass, ``PageText.overlay_pdf``) laid over it, scaled to the same box. The image is turned
  as it was for the reading that was kept; any turn the engine coped with by itself becomes
  the page's /Rotate, so viewers show the page upright and image and text turn together. If an overlay is missing (extraction ran with
  ``keep_overlays=False``) the engine reads that page again to make one.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pypdf
from PIL import Image

from .engine import OcrEngine
from .pipeline import Extraction, ExtractOptions, PageText
from .preflight import Preflight
from .raster import (
    PageSource,
    for_ocr,
    is_low_contrast,
    normalize_contrast,
    rotate_upright,
    to_gray,
)

__all__ = ["build_rendition", "is_original_searchable"]

UNKNOWN_DPI = 200  # page size for images that do not state their resolution (typical scans)


def is_original_searchable(extraction: Extraction) -> bool:
    return extraction.kind == "pdf" and all(p.method == "text-layer" for p in extraction.pages)


def build_rendition(
    path: str | os.PathLike[str],
    extraction: Extraction,
    info: Preflight,
    *,
    dest: str | os.PathLike[str] | None = None,
    options: ExtractOptions | None = None,
    engine: OcrEngine | None = None,
    jpeg_quality: int = 75,
) -> bytes | None:
    """The rendition as bytes, or None after writing it to ``dest``."""
    if is_original_searchable(extraction):
        if dest is not None:
            shutil.copyfile(path, dest)
            return None
        return Path(path).read_bytes()

    options = options or ExtractOptions(languages=extraction.languages)
    writer = pypdf.PdfWriter()
    reader = pypdf.PdfReader(path, strict=False) if info.kind == "pdf" else None
    if reader is not None and reader.is_encrypted:
        reader.decrypt("")
    with PageSource(path, info.kind, info.pages, options.dpi, options.max_pixels) as source:
        for page in extraction.pages:
            if page.method == "text-layer" and reader is not None:
                writer.add_page(reader.pages[page.number - 1])
                continue
            image = rotate_upright(source.load(page.number - 1, color=True), page.ocr_rotation)
            overlay = page.overlay_pdf or _make_overlay(engine, image, page, source, options)
            dpi = source.dpi(page.number - 1) or UNKNOWN_DPI
            added = _add_image_page(writer, image, dpi, overlay, jpeg_quality)
            # The engine read the rest of the turn by itself: the viewer turns image and
            # invisible text together, so they stay aligned.
            rest = (page.rotation - page.ocr_rotation) % 360
            if rest:
                added.rotate(rest)
            del image
    buffer = io.BytesIO()
    writer.write(buffer)
    if dest is not None:
        Path(dest).write_bytes(buffer.getvalue())
        return None
    return buffer.getvalue()


def _make_overlay(
    engine: OcrEngine | None,
    image: Image.Image,
    page: PageText,
    source: PageSource,
    options: ExtractOptions,
) -> bytes:
    if engine is None:
        from .tesseract import TesseractEngine

        engine = TesseractEngine()
    prepared = for_ocr(image)
    if options.normalize_contrast and is_low_contrast(to_gray(prepared)):
        prepared = normalize_contrast(prepared)
    return engine.render_pdf_page(prepared, options.languages, dpi=source.dpi(page.number - 1))


def _add_image_page(
    writer: pypdf.PdfWriter, image: Image.Image, dpi: int, overlay: bytes, quality: int
) -> pypdf.PageObject:
    if image.mode not in ("L", "RGB", "1"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PDF", resolution=float(dpi), quality=quality)
    page = writer.add_page(pypdf.PdfReader(buffer).pages[0])  # merging needs a writer's page
    text = pypdf.PdfReader(io.BytesIO(overlay)).pages[0]
    # The overlay's size follows the resolution Tesseract assumed; scale it onto the image box.
    sx = float(page.mediabox.width) / float(text.mediabox.width)
    sy = float(page.mediabox.height) / float(text.mediabox.height)
    page.merge_transformed_page(text, pypdf.Transformation().scale(sx, sy))
    return page
