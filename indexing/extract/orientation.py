"""Read a page the right way up, paying for orientation detection only when it is needed.

Contract: ``recognize_upright(engine, image, read, dpi=...)`` returns the best reading of the
page and the clockwise rotation (0/90/180/270) applied to the pixels before that reading; the
reading's own ``orientation`` tells any further turn the engine followed by itself. ``read``
is the caller's way of reading one image (the pipeline's includes its contrast retry); it is
called once for most pages, turned ones included.

Why reading once matters: Tesseract reads a turned page slowly (about 1.5-2x an upright one,
it is reading garbage) and wrongly, so "read, notice it is doubtful, detect, turn, read again"
costs a turned page about three upright readings. The ladder, cheapest first:

0. Text-line cues (``text_line_cues``, milliseconds): the page downscaled to about 150 dpi,
   binarised, and projected in strips. Horizontal text leaves blank gaps between lines in the
   row profiles of vertical strips and hardly any in the column profiles of horizontal strips;
   sideways text the reverse. Within a line of Latin script far more ink sticks up out of the
   x-height band (capitals, digits, b d f h k l t) than hangs below it (g j p q y), so each
   line votes "up" or "down"; an upside-down page votes down. CJK lines are symmetric and do
   not vote. The verdict is ``turned``, ``upright`` or neither.
1. Cues say turned: the orientation detector (OSD) is asked first, on the ~150 dpi copy
   (about 0.9 s per A4 page against 1.3 s on the full one; OCR of a page takes 4-6 s), and a
   rotation it names with confidence is applied before the one reading.
2. The page is read once with ``--psm 3``: as it stands, which is exactly what plain
   Tesseract does, or turned as step 1 decided. A confident reading (mean word confidence
   >= 60) is kept: nearly every page stops here. If a page turned in step 1 reads doubtfully,
   it is read as it stands too and the better reading kept, so a wrong guess never loses text.
3. A doubtful reading of a page whose cues say upright stands: its lines run across and its
   ascenders point up, so another orientation would read worse, not better.
4. Otherwise OSD is asked (unless it was in step 1); if it names a rotation, the page is
   turned and read once more.
5. OSD gives up on sparse or some Chinese pages ("too few characters"): if the page had
   words but doubtful ones, the three other orientations are tried. When OSD does answer
   "upright", even with little confidence, that is believed: three more OCR passes of a
   poor scan mostly find a different kind of garbage.
Readings are compared by confidence-weighted count of real characters (``PageOcr.score``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from .engine import OcrEngine, OrientationGuess, PageOcr
from .raster import rotate_upright, to_gray

__all__ = [
    "OrientationPolicy",
    "TextLineCues",
    "is_confident",
    "recognize_upright",
    "text_line_cues",
]


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


# -- text-line cues -----------------------------------------------------------------------------

_CUE_DPI = 150  # x-height of body text is then ~10 px: enough to see ascenders, cheap to scan
_CUE_MAX_SIDE = 2000  # pages of unknown or huge resolution are scaled down to about this
_STRIPS = 8  # narrow enough that lines of a skewed page or of two columns stay apart
_BLANK = 2  # profile value (mean ink, 0..255) at or below which a row or column is blank
# Gap fractions must differ by these factors before the lines count as running one way.
_SIDEWAYS_FACTOR = 1.75
_ACROSS_FACTOR = 1.2
_MIN_GAPS = 0.1  # text pages leave at least this much of a profile blank between lines
# Line votes: one side must have twice the other's and a lead of this many lines.
_VOTE_LEAD = 10


@dataclass(frozen=True)
class TextLineCues:
    """What the pixels say about line direction (see module docstring, step 0)."""

    gaps_across: float  # blank fraction of row profiles: lines running across leave gaps
    gaps_down: float  # blank fraction of column profiles: lines running down leave gaps
    lines_up: int  # lines whose extra ink sticks up (upright Latin script)
    lines_down: int  # lines whose extra ink hangs down (upside-down Latin script)

    @property
    def sideways(self) -> bool:
        return self.gaps_down >= _MIN_GAPS and self.gaps_down > _SIDEWAYS_FACTOR * self.gaps_across

    @property
    def upside_down(self) -> bool:
        return _outvotes(self.lines_down, self.lines_up) and not self.gaps_down > self.gaps_across

    @property
    def turned(self) -> bool:
        return self.sideways or self.upside_down

    @property
    def upright(self) -> bool:
        lines_across = self.gaps_across >= _MIN_GAPS and (
            self.gaps_across > _ACROSS_FACTOR * self.gaps_down
        )
        return lines_across and _outvotes(self.lines_up, self.lines_down)


def _outvotes(winner: int, loser: int) -> bool:
    return winner >= 2 * loser and winner - loser >= _VOTE_LEAD


def _reduced_gray(image: Image.Image, dpi: int | None) -> tuple[Image.Image, int | None]:
    """The page in grayscale at about ``_CUE_DPI``, and its resolution (None if unknown)."""
    gray = to_gray(image)
    factor = round(dpi / _CUE_DPI) if dpi else 1
    factor = max(1, factor, -(-max(gray.size) // _CUE_MAX_SIDE))
    if factor == 1:
        return gray, dpi
    return gray.reduce(factor), dpi // factor if dpi else None


def text_line_cues(image: Image.Image, dpi: int | None) -> TextLineCues:
    """Line direction cues of a page image (any mode), in a few milliseconds."""
    gray, _ = _reduced_gray(image, dpi)
    threshold = _otsu_threshold(gray.histogram())
    ink = gray.point(lambda value: 255 if value <= threshold else 0)
    width, height = ink.size
    row_profiles: list[bytes] = []
    column_profiles: list[bytes] = []
    for strip in range(_STRIPS):
        left, right = width * strip // _STRIPS, width * (strip + 1) // _STRIPS
        top, bottom = height * strip // _STRIPS, height * (strip + 1) // _STRIPS
        # A box-filter resize to one pixel wide is the strip's mean ink per row, done in C.
        column = ink.crop((left, 0, right, height)).resize((1, height), Image.Resampling.BOX)
        row = ink.crop((0, top, width, bottom)).resize((width, 1), Image.Resampling.BOX)
        row_profiles.append(column.tobytes())
        column_profiles.append(row.tobytes())
    up = down = 0
    for profile in row_profiles:
        line_up, line_down = _line_votes(profile)
        up, down = up + line_up, down + line_down
    return TextLineCues(
        gaps_across=sum(map(_blank_fraction, row_profiles)) / _STRIPS,
        gaps_down=sum(map(_blank_fraction, column_profiles)) / _STRIPS,
        lines_up=up,
        lines_down=down,
    )


def _otsu_threshold(histogram: list[int]) -> int:
    """The gray level that best splits the histogram into ink and paper (Otsu's method)."""
    histogram = histogram[:256]
    total = sum(histogram)
    weighted_total = sum(level * count for level, count in enumerate(histogram))
    below = weighted_below = 0
    best_level, best_spread = 0, -1.0
    for level, count in enumerate(histogram):
        below += count
        if below == 0:
            continue
        above = total - below
        if above == 0:
            break
        weighted_below += level * count
        mean_below = weighted_below / below
        mean_above = (weighted_total - weighted_below) / above
        spread = below * above * (mean_below - mean_above) ** 2
        if spread > best_spread:
            best_level, best_spread = level, spread
    return best_level


def _ink_runs(profile: bytes) -> list[tuple[int, int]]:
    runs, start = [], None
    for position, value in enumerate(profile):
        if value > _BLANK and start is None:
            start = position
        elif value <= _BLANK and start is not None:
            runs.append((start, position))
            start = None
    if start is not None:
        runs.append((start, len(profile)))
    return runs


def _blank_fraction(profile: bytes) -> float:
    """Share of the span from first to last ink that is blank (the gaps between lines)."""
    runs = _ink_runs(profile)
    if len(runs) < 2:
        return 0.0
    span = runs[-1][1] - runs[0][0]
    return (span - sum(end - start for start, end in runs)) / span


def _line_votes(profile: bytes) -> tuple[int, int]:
    """Lines (ink runs of about the usual height) whose ink outside the x-height band (rows
    at least half as dark as the line's darkest) is mostly above it, and mostly below it."""
    runs = [(start, end) for start, end in _ink_runs(profile) if end - start >= 4]
    if not runs:
        return 0, 0
    heights = sorted(end - start for start, end in runs)
    usual = heights[len(heights) // 2]
    up = down = 0
    for start, end in runs:
        if not usual / 2 <= end - start <= usual * 2:
            continue  # rules, figures, merged lines
        line = profile[start:end]
        half = max(line) / 2
        band = [i for i, value in enumerate(line) if value >= half]
        above, below = sum(line[: band[0]]), sum(line[band[-1] + 1 :])
        if above > 1.5 * below:
            up += 1
        elif below > 1.5 * above:
            down += 1
    return up, down


# -- the ladder ---------------------------------------------------------------------------------


def recognize_upright(
    engine: OcrEngine,
    image: Image.Image,
    read: Callable[[Image.Image], PageOcr],
    *,
    dpi: int | None,
    policy: OrientationPolicy | None = None,
) -> tuple[PageOcr, int]:
    """``read(image)``: one reading of the page as given (see module docstring)."""
    policy = policy or OrientationPolicy()
    cues = text_line_cues(image, dpi)
    guess: OrientationGuess | None = None
    asked = False
    rotation = 0
    if cues.turned:
        # OSD samples a fixed number of characters; at ~150 dpi it finds them on a quarter of
        # the pixels (about 0.9 s instead of 1.3 s per A4 page) and still named the right turn
        # of every turned page of the shared corpus, with lower but ample confidence (12-20).
        small, small_dpi = _reduced_gray(image, dpi)
        guess, asked = engine.detect_orientation(small, dpi=small_dpi), True
        rotation = _named_turn(guess, policy)

    best = read(rotate_upright(image, rotation))
    if is_confident(best, policy):
        return best, rotation
    if rotation:
        # OSD's turn read doubtfully: the page as it stands is the only other candidate.
        as_is = read(image)
        if as_is.score > best.score * policy.margin:
            return as_is, 0
        return best, rotation
    if cues.upright:
        return best, rotation

    if not asked:
        guess = engine.detect_orientation(image, dpi=dpi)
    if guess is not None:
        turn = _named_turn(guess, policy)
        candidates = [turn] if turn else []
    elif best.words and (best.confidence or 0) < policy.try_all_below:
        candidates = [180, 90, 270]  # 180 first: upside-down feeds are the commonest mistake
    else:
        candidates = []  # a blank page, or a plausible reading OSD cannot improve on

    for candidate in candidates:
        reading = read(rotate_upright(image, candidate))
        if reading.score > best.score * policy.margin:
            best, rotation = reading, candidate
            if is_confident(best, policy):
                break
    return best, rotation


def _named_turn(guess: OrientationGuess | None, policy: OrientationPolicy) -> int:
    """The rotation OSD names with enough confidence, else 0."""
    if guess is None or guess.confidence < policy.osd_min_confidence:
        return 0
    return guess.rotate
