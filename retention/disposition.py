"""Disposition batch (销毁清册) state machine, pure.

Contract:

* A ``Batch`` is an immutable value; every operation returns a new ``Batch`` or raises a
  typed error. The application persists the fields as it likes and rebuilds the value.
* States: ``draft -> under_review -> approved -> executed``; ``cancelled`` from any state
  before ``executed``. Reviews are recorded in draft or under review; approvals in under
  review (and extra signatures after approval). Nothing changes after executed/cancelled.
* Each item is reviewed ``destroy`` or ``extend`` (an extension needs a reason and a new
  review date). Approving needs every item reviewed (``ItemNotReviewed``).
* An approval is bound to the digest of the reviewed item list. Changing a review after
  someone approved makes that approval stale: it no longer counts, so nobody is counted
  as approving a list they never saw. Approvals count per distinct user; the same user
  approving twice counts once. The batch becomes ``approved`` when the distinct current
  approvers reach ``required_approvals`` (default 2).
* 监销 separation: nobody who approved may execute (``ExecutorIsApprover``).
* ``execute_check`` re-decides every item with fresh facts and the current rules on the
  execution day. It is the dry run: it changes nothing and returns which items to destroy
  and which to skip, with reasons. ``record_execution`` then records what was done.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from retention.decide import Decision, ReasonCode, RecordFacts, decide
from retention.errors import (
    BatchNotOpen,
    ExecutorIsApprover,
    InvalidReview,
    ItemNotReviewed,
    NotEnoughApprovals,
    StaleCheck,
    UnknownItem,
)
from retention.plan import Plan
from retention.rules import RetentionRule, RuleSet

DEFAULT_REQUIRED_APPROVALS = 2


class BatchState(StrEnum):
    DRAFT = "draft"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    EXECUTED = "executed"
    CANCELLED = "cancelled"


class ReviewAction(StrEnum):
    DESTROY = "destroy"
    EXTEND = "extend"


class SkipReason(StrEnum):
    """Why an item is not destroyed, beyond the ``ReasonCode`` of a fresh decision."""

    EXTENDED = "EXTENDED"  # reviewed 'extend'
    FACTS_MISSING = "FACTS_MISSING"  # no fresh facts supplied for the record
    CLASS_CHANGED = "CLASS_CHANGED"  # record reclassified since the batch was made
    RULE_CHANGED = "RULE_CHANGED"  # rule code or version differs from the approved one
    EXECUTION_FAILED = "EXECUTION_FAILED"  # cleared for destruction but not destroyed


@dataclass(frozen=True, slots=True)
class Review:
    action: ReviewAction
    reviewer: str
    reviewed_at: datetime
    reason: str = ""
    review_on: date | None = None  # for an extension: when to look again


@dataclass(frozen=True, slots=True)
class BatchItem:
    record_id: str
    class_code: str
    rule_code: str
    rule_version: int
    eligible_on: date
    review: Review | None = None


@dataclass(frozen=True, slots=True)
class Approval:
    user: str
    approved_at: datetime
    items_digest: str  # the reviewed list this approval is for


@dataclass(frozen=True, slots=True)
class SkippedItem:
    record_id: str
    reason: ReasonCode | SkipReason
    detail: str
    hold_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ExecutionCheck:
    """Result of re-checking an approved batch on the execution day. Changes nothing."""

    batch_id: str
    items_digest: str
    as_of: date
    to_destroy: tuple[Decision, ...]
    skipped: tuple[SkippedItem, ...]
    items_checked: int

    @property
    def held_record_ids(self) -> tuple[str, ...]:
        """Records found on hold or under an unsettled claim at the check."""
        blocked = {ReasonCode.HELD, ReasonCode.UNSETTLED_CLAIM}
        return tuple(s.record_id for s in self.skipped if s.reason in blocked)

    @property
    def destroy_ids(self) -> tuple[str, ...]:
        return tuple(d.record_id for d in self.to_destroy)


@dataclass(frozen=True, slots=True)
class Execution:
    executor: str
    executed_at: datetime
    check: ExecutionCheck
    destroyed_ids: tuple[str, ...]

    @property
    def failed_ids(self) -> tuple[str, ...]:
        done = set(self.destroyed_ids)
        return tuple(r for r in self.check.destroy_ids if r not in done)


@dataclass(frozen=True, slots=True)
class Batch:
    batch_id: str
    created_by: str
    created_at: datetime
    as_of: date  # the appraisal day the items were found eligible
    items: tuple[BatchItem, ...]
    required_approvals: int = DEFAULT_REQUIRED_APPROVALS
    state: BatchState = BatchState.DRAFT
    approvals: tuple[Approval, ...] = ()
    execution: Execution | None = None
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str = ""

    def __post_init__(self) -> None:
        if self.required_approvals < 1:
            raise ValueError("a destruction needs at least one approval")
        ids = [item.record_id for item in self.items]
        if len(ids) != len(set(ids)):
            raise ValueError("a record may appear only once in a batch")

    # --- reading ------------------------------------------------------------------------

    def item(self, record_id: str) -> BatchItem:
        for item in self.items:
            if item.record_id == record_id:
                return item
        raise UnknownItem(record_id)

    @property
    def unreviewed_ids(self) -> tuple[str, ...]:
        return tuple(i.record_id for i in self.items if i.review is None)

    @property
    def items_digest(self) -> str:
        """SHA-256 over what approvers approve: each item, its rule and its review outcome."""
        rows = [
            {
                "record_id": i.record_id,
                "class_code": i.class_code,
                "rule_code": i.rule_code,
                "rule_version": i.rule_version,
                "eligible_on": i.eligible_on.isoformat(),
                "action": i.review.action.value if i.review else None,
                "reason": i.review.reason if i.review else None,
                "review_on": i.review.review_on.isoformat()
                if i.review and i.review.review_on
                else None,
            }
            for i in sorted(self.items, key=lambda i: i.record_id)
        ]
        blob = json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    @property
    def approvers(self) -> tuple[str, ...]:
        """Distinct users whose approval is for the current list, in approval order."""
        digest = self.items_digest
        seen: dict[str, None] = {}
        for a in self.approvals:
            if a.items_digest == digest:
                seen.setdefault(a.user, None)
        return tuple(seen)

    @property
    def approval_count(self) -> int:
        return len(self.approvers)

    # --- transitions --------------------------------------------------------------------

    def _require(self, operation: str, *states: BatchState) -> None:
        if self.state not in states:
            raise BatchNotOpen(self.state.value, operation)

    def submit(self) -> Batch:
        """Draft -> under review: the list is fixed, review and approval begin."""
        self._require("submit", BatchState.DRAFT)
        return replace(self, state=BatchState.UNDER_REVIEW)

    def review(
        self,
        record_id: str,
        action: ReviewAction | str,
        reviewer: str,
        reviewed_at: datetime,
        *,
        reason: str = "",
        review_on: date | None = None,
    ) -> Batch:
        """Record (or replace) the decision on one item."""
        self._require("review", BatchState.DRAFT, BatchState.UNDER_REVIEW)
        action = ReviewAction(action)
        self.item(record_id)  # raises UnknownItem
        if not reviewer:
            raise InvalidReview(record_id, "a review needs a reviewer")
        if action is ReviewAction.EXTEND:
            if not reason.strip():
                raise InvalidReview(record_id, "an extension needs a reason")
            if review_on is None:
                raise InvalidReview(record_id, "an extension needs a new review date")
            if review_on <= reviewed_at.date():
                raise InvalidReview(record_id, "the new review date must be in the future")
        elif review_on is not None:
            raise InvalidReview(record_id, "only an extension takes a review date")
        new = Review(action, reviewer, reviewed_at, reason.strip(), review_on)
        items = tuple(replace(i, review=new) if i.record_id == record_id else i for i in self.items)
        return replace(self, items=items)

    def approve(self, user: str, approved_at: datetime) -> Batch:
        """Add ``user``'s approval of the current list; approved once enough distinct users."""
        self._require("approval", BatchState.UNDER_REVIEW, BatchState.APPROVED)
        if not user:
            raise ValueError("an approval needs a user")
        if self.unreviewed_ids:
            raise ItemNotReviewed(self.unreviewed_ids)
        if user in self.approvers:
            return self  # the same user approving twice counts once
        approvals = (*self.approvals, Approval(user, approved_at, self.items_digest))
        batch = replace(self, approvals=approvals)
        if batch.approval_count >= batch.required_approvals:
            batch = replace(batch, state=BatchState.APPROVED)
        return batch

    def cancel(self, by: str, at: datetime, reason: str) -> Batch:
        self._require("cancel", BatchState.DRAFT, BatchState.UNDER_REVIEW, BatchState.APPROVED)
        if not reason.strip():
            raise ValueError("cancelling a batch needs a reason")
        return replace(
            self,
            state=BatchState.CANCELLED,
            cancelled_by=by,
            cancelled_at=at,
            cancel_reason=reason.strip(),
        )


def create_batch(
    batch_id: str,
    plan: Plan,
    created_by: str,
    created_at: datetime,
    *,
    required_approvals: int = DEFAULT_REQUIRED_APPROVALS,
    record_ids: Iterable[str] | None = None,
) -> Batch:
    """A draft batch of the plan's eligible records (optionally only ``record_ids``)."""
    wanted = None if record_ids is None else set(record_ids)
    items: list[BatchItem] = []
    for d in plan.eligible:
        if wanted is not None and d.record_id not in wanted:
            continue
        # An eligible decision always names its rule and date; guard against hand-made ones.
        if d.rule_code is None or d.rule_version is None or d.eligible_on is None:
            raise ValueError(f"decision for {d.record_id!r} is not a complete eligible one")
        items.append(
            BatchItem(d.record_id, d.class_code, d.rule_code, d.rule_version, d.eligible_on)
        )
    if wanted is not None:
        missing = wanted - {i.record_id for i in items}
        if missing:
            raise UnknownItem(sorted(missing)[0])
    return Batch(
        batch_id=batch_id,
        created_by=created_by,
        created_at=created_at,
        as_of=plan.as_of,
        items=tuple(items),
        required_approvals=required_approvals,
    )


def _require_executable(batch: Batch, executor: str | None) -> None:
    if batch.state is BatchState.UNDER_REVIEW:
        raise NotEnoughApprovals(batch.approval_count, batch.required_approvals)
    if batch.state is not BatchState.APPROVED:
        raise BatchNotOpen(batch.state.value, "execution")
    if batch.approval_count < batch.required_approvals:  # defensive: a hand-built value
        raise NotEnoughApprovals(batch.approval_count, batch.required_approvals)
    if executor is not None and executor in {a.user for a in batch.approvals}:
        raise ExecutorIsApprover(executor)


def execute_check(
    batch: Batch,
    fresh_facts_by_record: Mapping[str, RecordFacts],
    rules: RuleSet | Mapping[str, RetentionRule],
    as_of: date,
    *,
    executor: str | None = None,
) -> ExecutionCheck:
    """Re-check an approved batch on the execution day; the dry run. Changes nothing.

    ``rules`` is a ``RuleSet`` or a mapping of class code to current rule. An item is
    destroyed only if it was reviewed 'destroy', is eligible today under the current rule,
    and that rule is the very code and version the approvers saw. Anything else is skipped
    with the reason (a fresh ``ReasonCode`` such as HELD, or a ``SkipReason``).
    """
    _require_executable(batch, executor)
    by_class = rules.by_class if isinstance(rules, RuleSet) else rules
    to_destroy: list[Decision] = []
    skipped: list[SkippedItem] = []
    for item in batch.items:
        review = item.review
        if review is None:  # unreachable for an approved batch; kept as a guard
            raise ItemNotReviewed([item.record_id])
        if review.action is ReviewAction.EXTEND:
            until = review.review_on.isoformat() if review.review_on else "?"
            skipped.append(
                SkippedItem(
                    item.record_id, SkipReason.EXTENDED, f"extended to {until}: {review.reason}"
                )
            )
            continue
        facts = fresh_facts_by_record.get(item.record_id)
        if facts is None:
            skipped.append(
                SkippedItem(item.record_id, SkipReason.FACTS_MISSING, "no current facts supplied")
            )
            continue
        if facts.class_code != item.class_code:
            skipped.append(
                SkippedItem(
                    item.record_id,
                    SkipReason.CLASS_CHANGED,
                    f"class changed from {item.class_code!r} to {facts.class_code!r}",
                )
            )
            continue
        rule = by_class.get(facts.class_code)
        decision = decide(facts, rule, as_of)
        if not decision.eligible:
            skipped.append(
                SkippedItem(item.record_id, decision.reason, decision.detail, decision.hold_ids)
            )
            continue
        if (decision.rule_code, decision.rule_version) != (item.rule_code, item.rule_version):
            skipped.append(
                SkippedItem(
                    item.record_id,
                    SkipReason.RULE_CHANGED,
                    f"approved under {item.rule_code} v{item.rule_version}, "
                    f"now {decision.rule_code} v{decision.rule_version}",
                )
            )
            continue
        to_destroy.append(decision)
    return ExecutionCheck(
        batch_id=batch.batch_id,
        items_digest=batch.items_digest,
        as_of=as_of,
        to_destroy=tuple(to_destroy),
        skipped=tuple(skipped),
        items_checked=len(batch.items),
    )


def record_execution(
    batch: Batch,
    check: ExecutionCheck,
    executor: str,
    executed_at: datetime,
    destroyed_ids: Iterable[str] | None = None,
) -> Batch:
    """Approved -> executed, recording who destroyed what after ``check``.

    ``destroyed_ids`` (default: everything the check cleared) must be a subset of the
    check's ``to_destroy``; cleared items not destroyed are reported as EXECUTION_FAILED.
    """
    _require_executable(batch, executor)
    if not executor:
        raise ValueError("an execution needs an executor")
    if check.batch_id != batch.batch_id or check.items_digest != batch.items_digest:
        raise StaleCheck("the execution check was made for another batch or list")
    cleared = check.destroy_ids
    done = tuple(cleared) if destroyed_ids is None else tuple(dict.fromkeys(destroyed_ids))
    extra = set(done) - set(cleared)
    if extra:
        raise StaleCheck(f"not cleared by the check: {', '.join(sorted(extra))}")
    execution = Execution(executor, executed_at, check, done)
    return replace(batch, state=BatchState.EXECUTED, execution=execution)


def execution_skips(execution: Execution) -> tuple[SkippedItem, ...]:
    """Every item not destroyed: the check's skips plus cleared items that failed."""
    failed = tuple(
        SkippedItem(r, SkipReason.EXECUTION_FAILED, "cleared but not destroyed")
        for r in execution.failed_ids
    )
    return (*execution.check.skipped, *failed)
