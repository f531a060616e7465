"""Typed errors of the retention use cases, each carrying the data that explains it.

They derive from ``AppError`` so the web layer and the CLI map them in their one place.
Engine errors (``retention.RetentionError``) are translated by :func:`translate`.
"""

from __future__ import annotations

from collections.abc import Iterable

from archive_app.errors import AppError, Conflict
from retention import (
    BelowStatutoryMinimum,
    RetentionError,
)


class LegalHoldActive(Conflict):
    """The record is on one or more legal holds (or backs an unsettled claim)."""

    code = "legal_hold_active"

    def __init__(self, document: str, hold_ids: Iterable[str]) -> None:
        self.document = document
        self.hold_ids = tuple(sorted(hold_ids))
        super().__init__(
            f"document {document} is on legal hold ({', '.join(self.hold_ids)}); "
            "it cannot be changed or destroyed until every hold is released"
        )


class BelowMinimum(AppError):
    """A rule change would undercut the statutory minimum."""

    http_status = 422
    code = "below_statutory_minimum"

    def __init__(self, rule_code: str, requested: str, minimum: str) -> None:
        self.rule_code = rule_code
        self.requested = requested
        self.minimum = minimum
        super().__init__(
            f"rule {rule_code}: {requested} is below the statutory minimum of {minimum}"
        )


class RecordDestroyed(Conflict):
    code = "record_destroyed"

    def __init__(self, document: str) -> None:
        self.document = document
        super().__init__(f"document {document} was destroyed; only its stub remains")


class DispositionRefused(Conflict):
    """The disposition engine refused an operation; ``reason`` is its error class name."""

    code = "disposition_refused"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def translate(error: RetentionError) -> AppError:
    """One engine error as the app error a front end shows."""
    if isinstance(error, BelowStatutoryMinimum):
        return BelowMinimum(error.rule_code, str(error.requested), str(error.minimum))
    return DispositionRefused(type(error).__name__, str(error))
