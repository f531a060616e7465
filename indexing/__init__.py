"""Text extraction, OCR and full-text indexing (plain library: no Flask, no archive_app)."""
