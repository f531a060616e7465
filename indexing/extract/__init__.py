"""Extraction half of the intake pipeline: preflight → text (text layer or OCR) → searchable
PDF rendition → metadata suggestions. A plain library: no Flask, no app, no database.

Typical use from a background task::

    info = preflight(path, original_name, limits=Limits(max_bytes=...))   # PreflightRejected
    result = extract(path, info, options=ExtractOptions(workers=2), on_page=report)
    pdf_bytes = build_rendition(path, result, info)
    hints = suggest_metadata(result.text)
"""

from .engine import OcrEngine, OrientationGuess, PageOcr, Word
from .errors import (
    ExtractError,
    ExtractionFailed,
    OcrEngineUnavailable,
    PreflightRejected,
    RejectCode,
)
from .orientation import OrientationPolicy
from .pipeline import Extraction, ExtractOptions, PageText, extract
from .preflight import Limits, Preflight, check_filename, preflight, sniff_kind
from .rendition import build_rendition, is_original_searchable
from .suggest import (
    Suggestion,
    Suggestions,
    parse_chinese_amount,
    parse_date,
    suggest_metadata,
)
from .tesseract import TesseractEngine

__all__ = [
    "ExtractError",
    "ExtractOptions",
    "Extraction",
    "ExtractionFailed",
    "Limits",
    "OcrEngine",
    "OcrEngineUnavailable",
    "OrientationGuess",
    "OrientationPolicy",
    "PageOcr",
    "PageText",
    "Preflight",
    "PreflightRejected",
    "RejectCode",
    "Suggestion",
    "Suggestions",
    "TesseractEngine",
    "Word",
    "build_rendition",
    "check_filename",
    "extract",
    "is_original_searchable",
    "parse_chinese_amount",
    "parse_date",
    "preflight",
    "sniff_kind",
    "suggest_metadata",
]
