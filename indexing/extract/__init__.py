"""Extraction half of the intake pipeline: preflight → text (text layer or OCR) → searchable
PDF rendition → metadata suggestions. A plain library: no Flask, no app, no database.

Typical use from a background task::

    engines = open_engines("auto", "chi_sim+eng", temp_dir=private)    # OcrEngineUnavailable
    info = preflight(path, original_name, limits=Limits(max_bytes=...))   # PreflightRejected
    options = ExtractOptions(workers=2, temp_dir=private)
    result = extract(path, info, options=options, engines=engines, on_page=report)
    rendition = build_rendition(path, result, info, options=options)      # PDF/A-2b bytes
    hints = suggest_metadata(result.text, own_names=(...))
"""

from .engine import OcrEngine, OrientationGuess, PageOcr, Word
from .engines import ENGINE_CHOICES, Engines, open_engines
from .errors import (
    ExtractError,
    ExtractionFailed,
    OcrEngineUnavailable,
    PreflightRejected,
    RejectCode,
)
from .orientation import OrientationPolicy
from .paddle import PaddleEngine
from .pipeline import Extraction, ExtractOptions, PageText, extract
from .preflight import Limits, Preflight, check_filename, preflight, sniff_kind
from .rendition import Rendition, build_rendition, is_original_searchable
from .suggest import (
    Suggestion,
    Suggestions,
    parse_chinese_amount,
    parse_date,
    suggest_metadata,
)
from .tesseract import TesseractEngine

__all__ = [
    "ENGINE_CHOICES",
    "Engines",
    "ExtractError",
    "ExtractOptions",
    "Extraction",
    "ExtractionFailed",
    "Limits",
    "OcrEngine",
    "OcrEngineUnavailable",
    "OrientationGuess",
    "OrientationPolicy",
    "PaddleEngine",
    "PageOcr",
    "PageText",
    "Preflight",
    "PreflightRejected",
    "RejectCode",
    "Rendition",
    "Suggestion",
    "Suggestions",
    "TesseractEngine",
    "Word",
    "build_rendition",
    "check_filename",
    "extract",
    "is_original_searchable",
    "open_engines",
    "parse_chinese_amount",
    "parse_date",
    "preflight",
    "sniff_kind",
    "suggest_metadata",
]
