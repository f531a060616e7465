"""Page images for viewing: one page of an original, rendered in memory as a PNG.

Contract: ``render_page(data, kind, index, max_side)`` takes the original's bytes (the caller
decrypted them from its store), renders page ``index`` (0-based) so that its longer side is
at most ``max_side`` pixels, and returns a ``PageImage`` (PNG bytes and size). Nothing is
written to disk: PDFium renders a PDF from memory, Pillow decodes an image from memory.
``PageOutOfRange`` when the page does not exist.

The page is the page as ``raster.PageSource`` hands it to OCR (the PDF's own rotation
applied, a JPEG turned by its EXIF orientation), so the word boxes of a reading, kept as
fractions of that page, fall on the same place of this image. Turning a page upright for
reading is the viewer's business, not this module's.

Speed (a page must show in under half a second): OpenCV, NumPy and PDFium are imported with
this module (when the web app is built), not on the first page asked for; a JPEG is decoded
at a reduced scale straight from its DCT blocks (``Image.draft``); PDF pages are rendered at
the scale they are shown at, not at the OCR's 300 dpi; large images are first reduced by a
whole factor (a box filter) and only then resampled finely; a colour scan of black-and-white
paper is sent as grey; the PNG is written with zlib's run-length strategy, no row filters.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageOps

from .preflight import Kind
from .raster import _PDFIUM_LOCK, to_gray

__all__ = ["PageImage", "PageOutOfRange", "render_page"]

# A pixel is coloured when its channels differ by more than this (paper tint and scanner
# noise stay below); a page is in colour when more than this share of its pixels are.
PLAIN_SPREAD = 40
PLAIN_SHARE = 0.0005


class PageOutOfRange(IndexError):
    def __init__(self, index: int, pages: int) -> None:
        super().__init__(f"page {index + 1} of a document of {pages} pages")
        self.index = index
        self.pages = pages


@dataclass(frozen=True)
class PageImage:
    png: bytes
    width: int
    height: int


def render_page(data: bytes, kind: Kind, index: int, max_side: int) -> PageImage:
    if kind == "pdf":
        image = _viewable(_pdf_page(data, index, max_side))
    else:
        image = _image_page(data, kind, index, max_side)
    return _png(_gray_if_plain(image))


def _png(image: Image.Image) -> PageImage:
    """PNG through OpenCV's libpng with zlib's run-length strategy and no row filters: a
    fraction of the time of Pillow's default deflate on scanner grain, for a file about as
    small (``bench/viewer.py``); it also releases the GIL, so the server's other threads go
    on."""
    pixels = np.asarray(image)
    if image.mode == "RGB":
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    params = [
        cv2.IMWRITE_PNG_COMPRESSION,
        1,
        cv2.IMWRITE_PNG_STRATEGY,
        cv2.IMWRITE_PNG_STRATEGY_RLE,
        # Row filters buy little on scanner grain (and cost a third of the time): none.
        cv2.IMWRITE_PNG_FILTER,
        cv2.IMWRITE_PNG_FILTER_NONE,
    ]
    ok, encoded = cv2.imencode(".png", pixels, params)
    if not ok:
        raise ValueError("the page image could not be encoded as PNG")
    return PageImage(encoded.tobytes(), image.width, image.height)


def _gray_if_plain(image: Image.Image) -> Image.Image:
    """A colour scan of black-and-white paper as grey: a third of the pixels to encode and
    send. Colour is kept when any part of the page holds it (a red seal, a blue form)."""
    if image.mode != "RGB":
        return image
    sample = np.asarray(image.reduce(4) if min(image.size) >= 64 else image, dtype=np.int16)
    spread = sample.max(axis=2) - sample.min(axis=2)
    if np.count_nonzero(spread > PLAIN_SPREAD) > PLAIN_SHARE * spread.size:
        return image
    return image.convert("L")


def _pdf_page(data: bytes, index: int, max_side: int) -> Image.Image:
    with _PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(data)
        try:
            if not 0 <= index < len(pdf):
                raise PageOutOfRange(index, len(pdf))
            page = pdf[index]
            try:
                width, height = page.get_size()  # points, the page's rotation applied
                scale = max_side / max(1.0, width, height)
                bitmap = page.render(scale=scale, may_draw_forms=True)
                return bitmap.to_pil()
            finally:
                page.close()
        finally:
            pdf.close()


def _image_page(data: bytes, kind: Kind, index: int, max_side: int) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        frames = getattr(im, "n_frames", 1)
        if not 0 <= index < frames:
            raise PageOutOfRange(index, frames)
        im.seek(index)
        if kind == "jpeg":
            # Decode at 1/2, 1/4 or 1/8 scale when that still covers the size shown.
            scale = max_side / max(im.size)
            target = (max(1, int(im.width * scale)), max(1, int(im.height * scale)))
            im.draft(im.mode if im.mode in ("L", "RGB") else "RGB", target)
        im.load()
        # Phone photos store their orientation in EXIF rather than in the pixels.
        image = ImageOps.exif_transpose(im) if kind == "jpeg" else im.copy()
    image = _viewable(image)
    factor = max(image.size) // max_side
    if factor > 1:
        image = image.reduce(factor)  # a fast box reduction first, then the fine resampling
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def _viewable(image: Image.Image) -> Image.Image:
    """Grey or RGB: bilevel scans shrink into grey rather than into noise, 16-bit scans keep
    their top 8 bits, transparency becomes white paper."""
    if image.mode in ("L", "RGB"):
        return image
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if has_alpha or image.mode in ("1", "I", "I;16", "I;16B", "I;16L"):
        return to_gray(image)
    return image.convert("RGB")
