"""PP-OCR as an ``OcrEngine``: PaddleOCR's PP-OCRv4 mobile models run by onnxruntime.

Contract: thread-safe; one model set per process, loaded on first use from the files the
``rapidocr-onnxruntime`` wheel installs (nothing is ever downloaded). It reads Chinese
(simplified, and traditional reasonably) and English: ``reads("chi_sim+eng")`` is True,
``reads("deu")`` False. Pages stay in memory (a NumPy array): no file is written.

Each detected text line becomes one ``Word`` (PP-OCR detects lines, not words) with its box
and confidence; the page text is rebuilt in reading order by ``layout``, because the engine's
own order (top to bottom with a 10-pixel tolerance) interleaves the cells of a row. The
detector's boxes are quadrilaterals: their median slope tells the page's skew, and the text
is ordered from boxes levelled by it (the words keep the boxes as found, for the PDF).

Threads: every onnxruntime session runs with one intra-op thread. The pipeline reads pages in
parallel (one core per page), as it does with Tesseract; more threads per session would only
fight over the same cores. ``detect_orientation`` returns None: PP-OCR's angle classifier only
tells 0 from 180 degrees per line, so page orientation stays Tesseract's job. Its verdicts
are still used: a page most of whose lines it calls upside down is read again turned, and
``PageOcr.orientation`` says 180.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from PIL import Image

from .engine import OrientationGuess, PageOcr, Word
from .errors import ExtractionFailed, OcrEngineUnavailable
from .layout import layout_text

__all__ = ["PaddleEngine"]

# Tesseract language codes the PP-OCR Chinese model set reads.
LANGUAGES = frozenset({"chi_sim", "chi_tra", "eng"})
_LOAD_LOCK = threading.Lock()
_CLASSIFIED = threading.local()  # the angle classifier's verdicts of this thread's last page


class _RecordingClassifier:
    """The engine's angle classifier, asked for its per-line verdicts only: they are kept for
    the thread that asked (the engine drops them), and no line is turned. Turning lines one by
    one lost whole lines of upright pages: the classifier calls some long upright lines
    upside down (0.92 sure, above its 0.9 threshold), and the turned line reads as nothing.
    A page most of whose lines it calls upside down is read again turned as a whole."""

    def __init__(self, classifier: Any) -> None:
        self.classifier = classifier
        self.threshold = classifier.cls_thresh

    def __call__(self, crops: Any) -> Any:
        _, verdicts, elapsed = self.classifier(crops)
        _CLASSIFIED.verdicts = verdicts
        return crops, verdicts, elapsed


@functools.cache
def _models() -> Any:
    with _LOAD_LOCK:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as e:
            raise OcrEngineUnavailable(
                f"the rapidocr-onnxruntime package is not installed ({e})", engine="paddle"
            ) from e
        try:
            models = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
            models.text_cls = _RecordingClassifier(models.text_cls)
            return models
        except Exception as e:  # a broken wheel or onnxruntime: name it, once, at start
            raise OcrEngineUnavailable(
                f"the PP-OCR models cannot be loaded: {type(e).__name__}: {e}", engine="paddle"
            ) from e


class PaddleEngine:
    name = "paddle"

    def reads(self, languages: str) -> bool:
        return all(lang in LANGUAGES for lang in languages.split("+") if lang)

    def check(self, languages: str) -> None:
        _models()
        if not self.reads(languages):
            unread = sorted(set(languages.split("+")) - LANGUAGES)
            raise OcrEngineUnavailable(
                f"PP-OCR does not read {', '.join(unread)} (it reads {', '.join(sorted(LANGUAGES))})",
                engine=self.name,
            )

    def version(self) -> str:
        from importlib.metadata import version

        return f"rapidocr-onnxruntime {version('rapidocr-onnxruntime')}"

    def recognize(self, image: Image.Image, languages: str, *, dpi: int | None) -> PageOcr:
        import numpy as np

        rgb = image if image.mode == "RGB" else image.convert("RGB")
        pixels = np.asarray(rgb)[:, :, ::-1]  # the models take OpenCV's BGR order
        found, upside_down = _read(pixels)
        if upside_down:
            found, _ = _read(np.ascontiguousarray(pixels[::-1, ::-1]))
        words, quads, slopes = [], [], []
        for index, (points, text, score) in enumerate(found):
            (x0, y0), (x1, y1) = points[0], points[1]  # the top edge, left to right
            if x1 - x0 > 3 * abs(y1 - y0) and x1 > x0:
                slopes.append((y1 - y0) / (x1 - x0))
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            left, top = int(min(xs)), int(min(ys))
            box = (left, top, max(1, int(max(xs)) - left), max(1, int(max(ys)) - top))
            words.append(Word(text=str(text), confidence=float(score) * 100, line=index, box=box))
            quads.append(points)
        read = tuple(words)
        slope = sorted(slopes)[len(slopes) // 2] if slopes else 0.0
        return PageOcr(
            text=layout_text(_levelled(read, quads, slope)),
            confidence=sum(w.confidence for w in words) / len(words) if words else None,
            # Boxes of a page read turned refer to the turned image: back to the page's own.
            words=_turned_half(read, rgb.size) if upside_down else read,
            orientation=180 if upside_down else 0,
            engine=self.name,
        )

    def detect_orientation(self, image: Image.Image, *, dpi: int | None) -> OrientationGuess | None:
        return None


def _read(pixels: Any) -> tuple[list[Any], bool]:
    """The engine's (box, text, score) lines of a page, and whether most of its lines are
    upside down."""
    models = _models()
    _CLASSIFIED.verdicts = []
    try:
        found, _ = models(pixels)
    except Exception as e:
        raise ExtractionFailed(f"PP-OCR failed: {type(e).__name__}: {e}") from e
    return list(found or ()), _mostly_turned(_CLASSIFIED.verdicts, models.text_cls.threshold)


def _mostly_turned(verdicts: list[list[Any]], threshold: float) -> bool:
    turned = sum(1 for label, score in verdicts if "180" in str(label) and score > threshold)
    return len(verdicts) >= 2 and turned * 2 > len(verdicts)


def _levelled(words: tuple[Word, ...], quads: list[Any], slope: float) -> tuple[Word, ...]:
    """The boxes as if the page's lines ran level: each line's centre turned back by the skew
    angle, with the line's own length and height (not those of its tilted bounding box), so
    that the cells of one row stay one row and a column's gutter stays upright."""
    levelled = []
    for word, points in zip(words, quads, strict=True):
        (x0, y0), (x1, y1), _, (x3, y3) = points[:4]
        width = max(1.0, ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5)
        height = max(1.0, ((x3 - x0) ** 2 + (y3 - y0) ** 2) ** 0.5)
        cx = sum(p[0] for p in points) / len(points)
        cy = sum(p[1] for p in points) / len(points)
        lx, ly = cx + slope * cy, cy - slope * cx  # a small-angle rotation by -atan(slope)
        box = (round(lx - width / 2), round(ly - height / 2), round(width), round(height))
        levelled.append(Word(word.text, word.confidence, word.line, box))
    return tuple(levelled)


def _turned_half(words: tuple[Word, ...], size: tuple[int, int]) -> tuple[Word, ...]:
    """The boxes of the page turned by 180 degrees as they lie on the page (and back)."""
    width, height = size
    return tuple(
        Word(w.text, w.confidence, w.line, (width - x - bw, height - y - bh, bw, bh))
        for w in words
        for x, y, bw, bh in [w.box]
    )
