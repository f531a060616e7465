"""Page images: rasterise PDF pages (pypdfium2), read image frames (Pillow), prepare for OCR.

Contract: a ``PageSource`` hands out one page at a time as a Pillow image, so memory holds only
the pages being worked on (one per worker), whatever the page count. ``load(i, color=False)``
is safe to call from several threads: PDFium is not thread-safe, so rendering is serialised by
a process-wide lock (it is fast next to OCR); image files are opened anew per call.

Faded pages (light grey thermal print on off-white paper, often with dark scanner edges or a
punched hole): ``is_low_contrast`` tells them by the paper alone. Dark regions that touch the
border of the image are scan edges or black borders, not ink, and neither are they paper: they
are left out; a page whose paper holds almost no dark ink (fewer than 1 % of its pixels below
mid-grey) is faded. Counting over the whole page, as a global threshold does, a dark edge alone passes for
ink and hides the fading. ``enhance_local`` then divides each pixel by the paper brightness
around it (a wide maximum filter, OpenCV) and stretches the result over the paper only, so
faint print becomes dark where it is, whatever the edges and the lighting do. It is not applied to
every page: on ordinary scans it amplifies background texture and JPEG noise; the pipeline
reads an enhanced copy only when the plain reading is doubtful, and keeps the better one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from PIL import Image, ImageOps

from .preflight import Kind, image_dpi

__all__ = [
    "PageSource",
    "enhance_local",
    "for_ocr",
    "is_low_contrast",
    "rotate_upright",
    "to_gray",
]

_PDFIUM_LOCK = threading.Lock()


def to_gray(image: Image.Image) -> Image.Image:
    """8-bit grayscale; transparent areas become white paper, not black."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda v: v / 256)  # 16-bit scans: keep the top 8 bits
    return image.convert("L")


def for_ocr(image: Image.Image) -> Image.Image:
    """The page's own pixels in a mode OCR engines take (bilevel, gray or RGB)."""
    if image.mode in ("1", "L", "RGB"):
        return image
    if image.mode in ("RGBA", "LA", "PA", "P", "CMYK", "YCbCr"):
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        return to_gray(image) if has_alpha else image.convert("RGB")
    return to_gray(image)


_ANALYSIS_SIDE = 1000  # pages are reduced to about this many pixels per side for the test


def is_low_contrast(gray: Image.Image) -> bool:
    """True when the paper of a grayscale page holds (almost) no dark ink (faded print)."""
    import cv2
    import numpy as np

    factor = max(1, max(gray.size) // _ANALYSIS_SIDE)
    small = np.asarray(gray.reduce(factor) if factor > 1 else gray)
    dark = (small < 128).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    height, width = small.shape
    paper, ink = height * width, 0
    for left, top, w, h, area in stats[1:]:
        if left == 0 or top == 0 or left + w == width or top + h == height:
            paper -= area  # a scan edge or border: not paper, and not ink
        else:
            ink += area
    return paper > 0 and ink < 0.01 * paper


def enhance_local(image: Image.Image) -> Image.Image:
    """Grayscale with the paper flattened to white and faint print stretched to black."""
    import cv2
    import numpy as np

    gray = np.asarray(to_gray(image)).astype(np.float32)
    # The paper's brightness around each pixel: a maximum filter wider than any stroke
    # removes the print, a box blur smooths the tiles' seams.
    size = max(15, min(gray.shape) // 40) | 1
    kernel = np.ones((size, size), np.uint8)
    paper_level = cv2.blur(cv2.dilate(gray, kernel), (size, size))
    flat = np.clip(gray / np.maximum(paper_level, 1.0) * 255.0, 0, 255)
    paper = paper_level > 128  # dark scan edges and borders are not paper
    # The faint print's level: holes and edge remnants, dark already, do not set it.
    faint = flat[paper & (flat > 64)]
    darkest = float(np.percentile(faint, 1)) if faint.size else 0.0
    stretched = np.clip((flat - darkest) * 255.0 / max(1.0, 255.0 - darkest), 0, 255)
    stretched[~paper] = 255
    enhanced = Image.fromarray(stretched.astype(np.uint8))
    enhanced.info = dict(image.info)
    return enhanced


def rotate_upright(image: Image.Image, clockwise: int) -> Image.Image:
    """Rotate by a multiple of 90° clockwise, exactly (a transpose, no resampling)."""
    clockwise %= 360
    if clockwise == 0:
        return image
    method = {
        90: Image.Transpose.ROTATE_270,  # Pillow names counter-clockwise turns
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }[clockwise]
    rotated = image.transpose(method)
    rotated.info = dict(image.info)
    return rotated


class PageSource:
    """The pages of one accepted file (see ``preflight``), as images."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        kind: Kind,
        pages: int,
        dpi: int = 300,
        max_pixels: int = 60_000_000,
    ):
        self.path = Path(path)
        self.kind = kind
        self.pages = pages
        self.render_dpi = dpi
        self.max_pixels = max_pixels
        self._pdf = None
        if kind == "pdf":
            import pypdfium2 as pdfium

            with _PDFIUM_LOCK:
                self._pdf = pdfium.PdfDocument(str(self.path))
        self._image_dpi: int | None = None
        if kind != "pdf":
            with Image.open(self.path) as im:
                self._image_dpi = image_dpi(im)

    def dpi(self, index: int = 0) -> int | None:
        """Resolution of page ``index`` as ``load`` returns it; None when an image file does
        not say. PDF pages render at ``dpi``, or lower for a page too large for ``max_pixels``."""
        if self._pdf is None:
            return self._image_dpi
        with _PDFIUM_LOCK:
            page = self._pdf[index]
            w, h = page.get_size()  # points, rotation applied
            page.close()
        fit = int((self.max_pixels / max(1.0, w * h)) ** 0.5 * 72)
        return max(1, min(self.render_dpi, fit))

    def load(self, index: int, *, color: bool = False) -> Image.Image:
        """Page ``index`` (0-based): grayscale for OCR, or in colour for a rendition."""
        if self._pdf is not None:
            dpi = self.dpi(index)
            with _PDFIUM_LOCK:
                page = self._pdf[index]
                try:
                    bitmap = page.render(scale=dpi / 72, grayscale=not color, may_draw_forms=True)
                    image = bitmap.to_pil()
                finally:
                    page.close()
            image.info["dpi"] = (dpi, dpi)
            return image if color else image.convert("L")
        with Image.open(self.path) as im:
            im.seek(index)
            im.load()
            # Phone photos store their orientation in EXIF rather than in the pixels.
            image = ImageOps.exif_transpose(im) if self.kind == "jpeg" else im.copy()
        if self._image_dpi:
            image.info["dpi"] = (self._image_dpi, self._image_dpi)
        if color:
            return image if image.mode in ("RGB", "L", "1") else image.convert("RGB")
        return image

    def close(self) -> None:
        if self._pdf is not None:
            with _PDFIUM_LOCK:
                self._pdf.close()
            self._pdf = None

    def __enter__(self) -> PageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
