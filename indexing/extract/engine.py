"""The OCR engine interface: what the extraction pipeline needs from any OCR engine.

Contract: an engine is stateless and thread-safe (the pipeline calls it from several threads
at once, one page each); it receives a page image (mode ``1``, ``L`` or ``RGB``), upright or
not, and returns the recognised words of that page with their boxes. Orientation *decisions*,
contrast enhancement, reading order (``layout``) and the searchable PDF's text layer
(``overlay``) belong to the pipeline, not to the engine, so every engine gets them alike.

Two implementations: PP-OCR through onnxruntime (``indexing.extract.paddle``, Chinese and
English) and Tesseract (``indexing.extract.tesseract``, any installed language, and the
orientation detector). ``indexing.extract.engines`` chooses between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from PIL import Image

__all__ = ["OcrEngine", "OrientationGuess", "PageOcr", "Word"]


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0..100
    line: int  # running line number within the page, for rebuilding the layout
    box: tuple[int, int, int, int] = (0, 0, 0, 0)  # left, top, width, height in image pixels


@dataclass(frozen=True)
class PageOcr:
    """One page as the engine read it. ``text`` is the engine's raw layout (not normalised)."""

    text: str
    confidence: float | None  # mean word confidence 0..100; None when no word was found
    words: tuple[Word, ...] = ()
    engine: str = ""  # the name of the engine that read the page
    # Clockwise rotation that would turn the image so its text is upright, when the engine
    # read the text in another orientation by itself (from the direction words advance in
    # each line); 0 for text read upright.
    orientation: int = 0

    @staticmethod
    def orientation_of(words: tuple[Word, ...]) -> int:
        """Orientation of the text in the image, from the direction in which each line's
        words advance: right (upright, 0), left (upside down, 180), up (90), down (270)."""
        votes = {0: 0, 90: 0, 180: 0, 270: 0}
        lines: dict[int, list[Word]] = {}
        for word in words:
            lines.setdefault(word.line, []).append(word)
        for line in lines.values():
            if len(line) < 2:
                continue
            (x1, y1, w1, h1), (x2, y2, w2, h2) = line[0].box, line[-1].box
            dx, dy = (x2 + w2 / 2) - (x1 + w1 / 2), (y2 + h2 / 2) - (y1 + h1 / 2)
            if abs(dx) >= abs(dy):
                votes[0 if dx >= 0 else 180] += 1
            else:
                votes[270 if dy > 0 else 90] += 1
        best = max(votes, key=lambda k: votes[k])
        return best if votes[best] > votes[0] else 0

    @property
    def score(self) -> float:
        """Confidence-weighted count of real characters (letters, digits, CJK): compares
        readings of the same page, e.g. in four orientations. Junk scores near zero."""
        return sum(w.confidence / 100 * sum(1 for c in w.text if c.isalnum()) for w in self.words)


@dataclass(frozen=True)
class OrientationGuess:
    """Clockwise rotation that makes the page upright, and how sure the engine is."""

    rotate: int  # 0, 90, 180 or 270
    confidence: float


@runtime_checkable
class OcrEngine(Protocol):
    name: str

    def check(self, languages: str) -> None:
        """Raise ``OcrEngineUnavailable`` if the engine or one of ``languages`` is missing."""

    def reads(self, languages: str) -> bool:
        """Whether the engine reads every one of ``languages`` (Tesseract codes)."""

    def recognize(self, image: Image.Image, languages: str, *, dpi: int | None) -> PageOcr:
        """Read one page as it stands. ``languages`` uses Tesseract syntax (``chi_sim+eng``).
        Text the engine read in another orientation by itself shows in ``PageOcr.orientation``."""

    def detect_orientation(self, image: Image.Image, *, dpi: int | None) -> OrientationGuess | None:
        """Guess the page orientation; None when the engine cannot tell (too little text)."""
