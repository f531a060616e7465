"""A document's reading as stored, encrypted, in its text object: what every page says, which
engine read it and how sure it was, and the metadata suggested from the text.

Contract: ``reading_document(extraction, rendition, suggestions)`` is the JSON document the
pipeline stores (version 3); ``load_reading(raw)`` reads one back, versions 1 and 2 included
(version 1 was written before suggestions moved out of the database: it has no suggestions
and no per-page engine; versions before 3 have no ``lines``). Each OCR page of version 3
keeps its lines with their boxes on the page (``indexing.extract.lines``), so the viewer can
show where a line of text is on the scan.
Suggestions hold OCR text (values, the lines they came from), so they live here, in the
encrypted store, where destroying the record's keys destroys them too; the database keeps only
what the archivist accepted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from indexing.extract import Extraction, Rendition
from indexing.extract.lines import page_lines

VERSION = 3


def reading_document(
    extraction: Extraction, rendition: Rendition, suggestions: dict[str, Any]
) -> dict[str, Any]:
    return {
        "version": VERSION,
        "languages": extraction.languages,
        "engines": list(extraction.engines),
        "rendition": {"pdfa": rendition.pdfa},
        "pages": [
            {
                "number": page.number,
                "text": page.text,
                "method": page.method,
                "engine": page.engine or None,
                "confidence": round(page.confidence, 1) if page.confidence is not None else None,
                "rotation": page.rotation,
                "enhanced": page.enhanced,
                "readable": page.readable,
                "lines": page_lines(page),
            }
            for page in extraction.pages
        ],
        "suggestions": suggestions,
    }


@dataclass(frozen=True)
class Reading:
    pages: list[dict[str, Any]]
    suggestions: dict[str, Any] = field(default_factory=dict)
    engines: list[str] = field(default_factory=list)
    pdfa: str | None = None


def load_reading(raw: bytes) -> Reading:
    document = json.loads(raw)
    return Reading(
        pages=list(document.get("pages") or []),
        suggestions=dict(document.get("suggestions") or {}),
        engines=list(document.get("engines") or filter(None, [document.get("engine")])),
        pdfa=(document.get("rendition") or {}).get("pdfa"),
    )
