"""The package's public surface and its import boundary (a plain library)."""

from __future__ import annotations

import subprocess
import sys

import indexing.extract as extract_api


def test_public_names_resolve():
    for name in extract_api.__all__:
        assert getattr(extract_api, name) is not None


def test_no_flask_app_or_database_is_imported():
    code = (
        "import sys, indexing.extract, indexing.text;"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'archive_app', 'sqlalchemy', 'celery', 'psycopg')];"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_tesseract_engine_satisfies_the_protocol():
    assert isinstance(extract_api.TesseractEngine(), extract_api.OcrEngine)
