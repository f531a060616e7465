"""Fixtures for the extraction tests: generated documents and both real OCR engines.

Documents are generated once per session into a temporary folder (see ``tests.documents``).
Tests that need Tesseract use the ``tesseract`` fixture, which skips with a reason when the
program or its chi_sim/eng data is missing; ``engines`` is the product's default choice
(PP-OCR reading, Tesseract for orientation and as fallback), opened once per session, and
``tesseract_only`` the same with Tesseract reading.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexing.extract import Engines, OcrEngineUnavailable, TesseractEngine, open_engines
from tests import documents as docs


@pytest.fixture(scope="session")
def tesseract() -> TesseractEngine:
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed (Debian: apt-get install tesseract-ocr)")
    engine = TesseractEngine()
    try:
        engine.check("chi_sim+eng")
        engine.check("osd")
    except OcrEngineUnavailable as e:
        pytest.skip(f"tesseract language data missing: {e}")
    return engine


@pytest.fixture(scope="session")
def engines(tesseract: TesseractEngine) -> Engines:
    return open_engines("auto", "chi_sim+eng")


@pytest.fixture(scope="session")
def tesseract_only(tesseract: TesseractEngine) -> Engines:
    return open_engines("tesseract", "chi_sim+eng")


@pytest.fixture(scope="session")
def cjk_font() -> Path:
    return docs.require_cjk_font()


@pytest.fixture(scope="session")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("documents")


@pytest.fixture(scope="session")
def contract_page(cjk_font: Path):
    return docs.render_page(docs.CONTRACT_LINES)


@pytest.fixture(scope="session")
def invoice_page(cjk_font: Path):
    return docs.render_page(docs.INVOICE_LINES)


@pytest.fixture(scope="session")
def english_page(cjk_font: Path):
    return docs.render_page(docs.ENGLISH_INVOICE_LINES)


@pytest.fixture(scope="session")
def scanned_pdf(folder: Path, contract_page, english_page) -> Path:
    """Two image-only pages: a Chinese contract and an English invoice."""
    return docs.write_scanned_pdf([contract_page, english_page], folder / "scan.pdf")


@pytest.fixture(scope="session")
def text_pdf(folder: Path) -> Path:
    """Born-digital: an English invoice page and a Chinese contract page, real text layer."""
    return docs.write_text_pdf(
        [docs.ENGLISH_INVOICE_LINES, docs.CONTRACT_LINES], folder / "born-digital.pdf"
    )
