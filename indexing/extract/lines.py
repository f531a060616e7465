"""The lines of an OCR page with where they are on the page, for a viewer to highlight.

Contract: ``page_lines(page)`` returns the page's line pieces in reading order (``layout``),
each ``{"text": ..., "box": [left, top, width, height]}`` with the box as fractions (0..1) of
the page as stored, that is as ``raster.PageSource`` loads it and ``preview`` renders it,
whatever the resolution shown. The engine's boxes fit the page turned upright for the
reading (``PageText.ocr_rotation``); they are turned back here. Text-layer pages and pages
read without boxes give no lines.
"""

from __future__ import annotations

from typing import Any

from .layout import reading_order
from .pipeline import PageText

__all__ = ["page_lines"]


def _unturn(x: float, y: float, clockwise: int) -> tuple[float, float]:
    """A point of the page turned ``clockwise`` degrees, as fractions of the stored page."""
    if clockwise == 90:
        return y, 1 - x
    if clockwise == 180:
        return 1 - x, 1 - y
    if clockwise == 270:
        return 1 - y, x
    return x, y


def page_lines(page: PageText) -> list[dict[str, Any]]:
    width, height = page.image_size
    if page.method != "ocr" or not page.words or width <= 0 or height <= 0:
        return []
    lines = []
    for row in reading_order(page.words):
        for segment in row:
            corners = [
                _unturn(x / width, y / height, page.ocr_rotation % 360)
                for x in (segment.left, segment.right)
                for y in (segment.top, segment.bottom)
            ]
            left, top = min(c[0] for c in corners), min(c[1] for c in corners)
            right, bottom = max(c[0] for c in corners), max(c[1] for c in corners)
            box = [max(0.0, left), max(0.0, top), min(1.0, right) - left, min(1.0, bottom) - top]
            lines.append({"text": segment.text, "box": [round(v, 4) for v in box]})
    return lines
