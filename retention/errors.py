"""Typed errors of the retention engine.

Every error carries the data a caller needs to explain the refusal (to a user, an HTTP
response or a CLI exit message) without parsing the text. All derive from
``RetentionError`` so the application can map the whole family in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retention.rules import Period


class RetentionError(Exception):
    """Base class of every error raised by the ``retention`` package."""


# --- rules -------------------------------------------------------------------------------


class BelowStatutoryMinimum(RetentionError):
    """A rule (or a change to one) would keep records for less than the law requires."""

    def __init__(self, rule_code: str, requested: Period, minimum: Period) -> None:
        self.rule_code = rule_code
        self.requested = requested
        self.minimum = minimum
        super().__init__(
            f"rule {rule_code!r}: {requested} is below the statutory minimum of {minimum}"
        )


class InvalidRule(RetentionError):
    """A rule definition or change is malformed (bad code, empty reason, version gap...)."""

    def __init__(self, rule_code: str, problem: str) -> None:
        self.rule_code = rule_code
        self.problem = problem
        super().__init__(f"rule {rule_code!r}: {problem}")


class UnknownRule(RetentionError):
    """No rule with this code exists in the rule set."""

    def __init__(self, rule_code: str) -> None:
        self.rule_code = rule_code
        super().__init__(f"no retention rule {rule_code!r}")


class RuleMismatch(RetentionError):
    """A rule was applied to a record of another class: a programming error upstream."""

    def __init__(self, record_id: str, record_class: str, rule_code: str, rule_class: str):
        self.record_id = record_id
        self.record_class = record_class
        self.rule_code = rule_code
        self.rule_class = rule_class
        super().__init__(
            f"record {record_id!r} of class {record_class!r} cannot be decided by rule "
            f"{rule_code!r} of class {rule_class!r}"
        )


# --- disposition batches ---------------------------------------------------------------------


class DispositionError(RetentionError):
    """Base class of disposition batch refusals."""


class BatchNotOpen(DispositionError):
    """The batch is not in a state that allows this operation."""

    def __init__(self, state: str, operation: str = "") -> None:
        self.state = state
        self.operation = operation
        suffix = f" for {operation}" if operation else ""
        super().__init__(f"batch is {state}, not open{suffix}")


class NotEnoughApprovals(DispositionError):
    """Fewer distinct, current approvals than the batch requires."""

    def __init__(self, have: int, need: int) -> None:
        self.have = have
        self.need = need
        super().__init__(f"{have} distinct approval(s), {need} required")


class ExecutorIsApprover(DispositionError):
    """监销 separation: the person executing a destruction may not have approved it."""

    def __init__(self, user: str) -> None:
        self.user = user
        super().__init__(f"user {user!r} approved this batch and cannot execute it")


class ItemNotReviewed(DispositionError):
    """Some items still lack a destroy/extend decision."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.ids = tuple(sorted(ids))
        super().__init__(f"{len(self.ids)} item(s) not reviewed: {', '.join(self.ids)}")


class UnknownItem(DispositionError):
    """The batch holds no item for this record."""

    def __init__(self, record_id: str) -> None:
        self.record_id = record_id
        super().__init__(f"record {record_id!r} is not in this batch")


class InvalidReview(DispositionError):
    """A review decision is incomplete (an extension without reason or date, ...)."""

    def __init__(self, record_id: str, problem: str) -> None:
        self.record_id = record_id
        self.problem = problem
        super().__init__(f"record {record_id!r}: {problem}")


class StaleCheck(DispositionError):
    """An execution check does not belong to this batch or its current approvals."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


# --- certificates -------------------------------------------------------------------------


class CertificateError(RetentionError):
    """Base class of certificate errors."""


class CertificateInvalid(CertificateError):
    """A certificate file failed verification: bad signature, tampering or malformed data."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"certificate invalid: {reason}")


class CertificateInputError(CertificateError):
    """The data handed to ``build_certificate`` is incomplete or inconsistent."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


# --- the destruction ledger -----------------------------------------------------------------


class LedgerInvalid(RetentionError):
    """A destruction-ledger entry or chain failed verification; ``seq`` names the entry
    (None when the problem is not one entry's)."""

    def __init__(self, seq: int | None, reason: str) -> None:
        self.seq = seq
        self.reason = reason
        where = f"entry {seq}" if seq is not None else "the ledger"
        super().__init__(f"destruction ledger invalid at {where}: {reason}")
