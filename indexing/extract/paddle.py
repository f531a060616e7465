"""PP-OCR as an ``OcrEngine``: PaddleOCR's PP-OCRv4 mobile models run by onnxruntime.

Contract: thread-safe; one model set per process, loaded on first use from the files the
``rapidocr-onnxruntime`` wheel installs (nothing is ever downloaded). It reads Chinese
(simplified, and traditional reasonably) and English: ``reads("chi_sim+eng")`` is True,
``reads("deu")`` False. Pages stay in memory (a NumPy array): no file is written.

Each detected text line becomes one ``Word`` (PP-OCR detects lines, not words) with its box
and confidence; the page text is rebuilt in reading order by ``layout``, because the engine's
own order (top to bottom with a 10-pixel tolerance) interleaves the cells of a row.

Threads: every onnxruntime session runs with one intra-op thread. The pipeline reads pages in
parallel (one core per page), as it does with Tesseract; more threads per session would only
fight over the same cores. ``detect_orientation`` returns None: PP-OCR's angle classifier only
tells 0 from 180 degrees per line (it turns such lines by itself), so page orientation stays
Tesseract's job. What the classifier decided is still used: a page whose lines it mostly turned
is upside down, and ``PageOcr.orientation`` says 180 (its text is then ordered from the boxes
as seen upright).
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
    """The engine's angle classifier, keeping its per-line verdicts (which the engine drops)
    for the thread that asked, so the page's orientation can be told from them."""

    def __init__(self, classifier: Any) -> None:
        self.classifier = classifier
        self.threshold = classifier.cls_thresh

    def __call__(self, crops: Any) -> Any:
        turned, verdicts, elapsed = self.classifier(crops)
        _CLASSIFIED.verdicts = verdicts
        return turned, verdicts, elapsed


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
        models = _models()
        _CLASSIFIED.verdicts = []
        try:
            found, _ = models(pixels)
        except OcrEngineUnavailable:
            raise
        except Exception as e:
            raise ExtractionFailed(f"PP-OCR failed: {type(e).__name__}: {e}") from e
        words = []
        for index, (points, text, score) in enumerate(found or ()):
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            left, top = int(min(xs)), int(min(ys))
            box = (left, top, max(1, int(max(xs)) - left), max(1, int(max(ys)) - top))
            words.append(Word(text=str(text), confidence=float(score) * 100, line=index, box=box))
        found_words = tuple(words)
        mean = sum(w.confidence for w in words) / len(words) if words else None
        upside_down = _mostly_turned(_CLASSIFIED.verdicts, models.text_cls.threshold)
        upright = _turned_half(found_words, rgb.size) if upside_down else found_words
        return PageOcr(
            text=layout_text(upright),
            confidence=mean,
            words=found_words,
            orientation=180 if upside_down else 0,
            engine=self.name,
        )

    def detect_orientation(self, image: Image.Image, *, dpi: int | None) -> OrientationGuess | None:
        return None


def _mostly_turned(verdicts: list[list[Any]], threshold: float) -> bool:
    turned = sum(1 for label, score in verdicts if "180" in str(label) and score > threshold)
    return len(verdicts) >= 2 and turned * 2 > len(verdicts)


def _turned_half(words: tuple[Word, ...], size: tuple[int, int]) -> tuple[Word, ...]:
    """The boxes as they lie on the page turned by 180 degrees."""
    width, height = size
    return tuple(
        Word(w.text, w.confidence, w.line, (width - x - bw, height - y - bh, bw, bh))
        for w in words
        for x, y, bw, bh in [w.box]
    )
