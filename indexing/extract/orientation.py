"""Read a page the right way up, paying for orientation detection only when it is needed.

Contract: ``recognize_upright(engine, image, ...)`` returns the best reading of the page and the
clockwise rotation (0/90/180/270) applied to the pixels before that reading; the reading's own
``orientation`` tells any further turn the engine followed by itself.

The ladder, cheapest first (measured on the shared corpus, 2 cores):
1. The page is read as it stands (Tesseract ``--psm 3``, exactly what plain Tesseract does).
   A confident reading (mean word confidence >= 60) is kept: nearly every page stops here,
   at no cost over plain Tesseract. Pages read the wrong way up come back at about 30-55.
2. A doubtful page is read again letting the engine find and follow its orientation itself
   (``--psm 1``): that reads a turned page right in one more pass. Doing this for every page
   would cost ~20 % more on the upright majority, so it is kept for doubtful pages.
3. Still doubtful: the separate orientation detector (OSD, about a fifth of a page's OCR) is
   asked; if it names a rotation, the page is turned and read once more. (``--psm 1``
   declines to turn on a "weak margin" that OSD alone still gets right on small pages.)
4. OSD gives up on sparse or some Chinese pages ("too few characters"): if the page had
   words but doubtful ones, the three other orientations are tried. When OSD does answer
   "upright", even with little confidence, that is believed: three more OCR passes of a
   poor scan mostly find a different kind of garbage.
Readings are compared by confidence-weighted count of real characters (``PageOcr.score``).
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
    """``first``: the caller's step-1 reading of ``image``, if it already has one."""
    policy = policy or OrientationPolicy()
    best = first or engine.recognize(image, languages, dpi=dpi, want_pdf=want_pdf, auto_orient=True)
    rotation = 0
    if is_confident(best, policy):
        return best, rotation

    as_is = engine.recognize(image, languages, dpi=dpi, want_pdf=want_pdf, auto_orient=False)
    if as_is.score > best.score:
        best = as_is
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
