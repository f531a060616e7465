"""Typed errors of the extraction library.

Every error carries data, not just a sentence: the app maps ``code`` / ``reason`` to an HTTP
status, a CLI exit code and a translated message, and stores them on the document so a failed
step can be shown and retried. ``str(error)`` is a clear English message for logs.
"""

from __future__ import annotations

from enum import StrEnum


class ExtractError(Exception):
    """Base class of every error raised by ``indexing.extract``."""


class RejectCode(StrEnum):
    """Machine-readable reasons why preflight refused a file."""

    EMPTY = "empty"
    UNSUPPORTED_TYPE = "unsupported_type"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    TOO_LARGE = "too_large"
    TOO_MANY_PAGES = "too_many_pages"
    TOO_MANY_PIXELS = "too_many_pixels"
    UNSAFE_FILENAME = "unsafe_filename"


class PreflightRejected(ExtractError):
    """The file must not enter the archive as it is (the user has to act)."""

    def __init__(self, code: RejectCode, message: str, filename: str | None = None) -> None:
        super().__init__(f"{filename or 'file'}: {message} [{code}]")
        self.code = RejectCode(code)
        self.message = message
        self.filename = filename


class ExtractionFailed(ExtractError):
    """Text could not be extracted; ``page`` is 1-based, or None for the whole document."""

    def __init__(self, reason: str, page: int | None = None) -> None:
        where = f" (page {page})" if page is not None else ""
        super().__init__(f"extraction failed{where}: {reason}")
        self.reason = reason
        self.page = page


class OcrEngineUnavailable(ExtractError):
    """The OCR engine (or a language it needs) is not installed; retry after fixing the host."""

    def __init__(self, message: str, engine: str = "tesseract") -> None:
        super().__init__(f"{engine}: {message}")
        self.message = message
        self.engine = engine
