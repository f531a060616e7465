"""Read a page the right way up, paying for orientation detection only when it is needed.

Contract: ``recognize_upright(engine, image, ...)`` returns the best reading of the page and the
clockwise rotation (0/90/180/270) that produced it.

Why this order: Tesseract's orientation detection (OSD) costs about a fifth of a page's OCR,
and nearly every scanned page is upright. So the page is read as it is first (the caller may
pass that first reading in); when it is confident the page is upright and nothing more is
spent. Pages read upside down or sideways come back with a mean word confidence around 30-55,
upright pages, even poor scans, mostly above 60. Only a doubtful reading asks OSD; if OSD
names a rotation, the page is read once more that way and the better reading (by
confidence-weighted count of real characters) wins. OSD gives up on sparse or some Chinese
pages ("too few characters"): then, if the first reading found words but doubtfully, the three
other orientations are tried and the best one is kept. When OSD does answer "upright", even
with little confidence, that is believed: trying three more orientations of a poor scan costs
three OCR passes and mostly finds a different kind of garbage.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from .engine import OcrEngine, PageOcr
from .raster import rotate_upright

__all__ = ["OrientationPolicy", "is_confident", "recognize_upright"]


@dataclass(frozen=True)
class OrientationPolicy:
    # A first reading at least this confident (mean word confidence) is taken as upright.
    confident: float = 60.0
    # OSD guesses below this confidence are ignored (Tesseract's scale; ~15-35 on clear pages).
    osd_min_confidence: float = 1.5
    # A rotated reading must beat the current one by this factor to replace it.
    margin: float = 1.1
    # Try all orientations when OSD cannot tell and the reading is below this confidence.
    try_all_below: float = 60.0


def is_confident(page: PageOcr, policy: OrientationPolicy) -> bool:
    return page.confidence is not None and page.confidence >= policy.confident


def recognize_upright(
    engine: OcrEngine,
    image: Image.Image,
    languages: str,
    *,
    dpi: int | None,
    want_pdf: bool = False,
    policy: OrientationPolicy | None = None,
    first: PageOcr | None = None,
) -> tuple[PageOcr, int]:
    """``first``: a reading of ``image`` as it is, if the caller already has one."""
    policy = policy or OrientationPolicy()
    best = first or engine.recognize(image, languages, dpi=dpi, want_pdf=want_pdf)
    rotation = 0
    if is_confident(best, policy):
        return best, rotation

    guess = engine.detect_orientation(image, dpi=dpi)
    if guess is not None:
        confident_guess = guess.rotate and guess.confidence >= policy.osd_min_confidence
        candidates = [guess.rotate] if confident_guess else []
    elif best.words and (best.confidence or 0) < policy.try_all_below:
        candidates = [180, 90, 270]  # 180 first: upside-down feeds are the commonest mistake
    else:
        candidates = []  # a blank page, or a plausible reading OSD cannot improve on

    for candidate in candidates:
        reading = engine.recognize(
            rotate_upright(image, candidate), languages, dpi=dpi, want_pdf=want_pdf
        )
        if reading.score > best.score * policy.margin:
            best, rotation = reading, candidate
            if is_confident(best, policy):
                break
    return best, rotation
