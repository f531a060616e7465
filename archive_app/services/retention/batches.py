"""Disposition batches (销毁清册): create from the plan, review items, approve, cancel.

Contract: the engine's ``Batch`` is the source of truth and is persisted whole, after each
step, as ``batch_to_dict`` JSON in ``disposition_batches`` (kept permanently, never
deleted). A new batch holds the plan's eligible records on its appraisal day and is open
for review at once. Each item is reviewed destroy or extend (an extension needs a reason
and a new review date). Approvals come from distinct compliance users; the number needed
is ``Settings.retention_approvals`` (default 2), fixed in the batch when it is created.
Changing a review after an approval makes that approval stale (the engine's digest).
Execution lives in ``destruction``; while an execution is decided and not finished, the
batch takes no review, approval or cancellation (``BeingDestroyed``). Every step is
audited.

Clearance: a list is prepared from the records its preparer may see, so it never holds
one they could not; a reviewer reviews only what they may see; approving, cancelling or
executing a list needs sight of every item on it (refused with a count, never names).
Lists are shown with the items the reader may see and a count of the others.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.domain.numbering import next_value, raise_to
from archive_app.errors import ClearanceInsufficient, Conflict, NotFound, ValidationFailed
from archive_app.models import DestructionPlan, DispositionBatch, User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, Sight, require
from archive_app.services import audit
from archive_app.services.retention.errors import BeingDestroyed, translate
from archive_app.services.retention.facts import visibility
from archive_app.services.retention.planning import compute_plan
from archive_app.services.retention.plans import DECIDED
from retention import Batch, RetentionError, ReviewAction, batch_from_dict, batch_to_dict
from retention import create_batch as engine_create_batch

DEFAULT_EXTENSION = timedelta(days=365)


_BATCH_NUMBER = re.compile(r"XH-(\d{4})-(\d+)")


def _batch_sequence(year: int) -> str:
    return f"disposition_batch:{year}"


def batch_number(session: Session, year: int) -> str:
    return f"XH-{year:04d}-{next_value(session, _batch_sequence(year)):04d}"


def reserve_batch_number(session: Session, number: str) -> None:
    """Never hand out ``number`` (a batch a restore brought back from the ledger) again."""
    match = _BATCH_NUMBER.fullmatch(number)
    if match is not None:
        raise_to(session, _batch_sequence(int(match.group(1))), int(match.group(2)))


def load(
    session: Session, number: str, *, for_update: bool = False
) -> tuple[DispositionBatch, Batch]:
    query = select(DispositionBatch).where(DispositionBatch.number == number.strip())
    if for_update:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound("disposition batch", number)
    return row, batch_from_dict(row.state_json)


def refuse_while_destroying(session: Session, row: DispositionBatch) -> None:
    """Nothing touches a batch whose execution was decided and not finished but the run
    that completes it (:mod:`.destruction`)."""
    pending = session.scalar(
        select(DestructionPlan.id).where(
            DestructionPlan.batch_id == row.id, DestructionPlan.state == DECIDED
        )
    )
    if pending is not None:
        raise BeingDestroyed("batch", row.number, row.number)


def item_visibility(session: Session, actor: User, batch: Batch) -> dict[str, bool]:
    """Whether ``actor`` may see each item of ``batch``, by record id."""
    return visibility(session, Sight.of(session, actor), [i.record_id for i in batch.items])


def require_sight_of_every_item(session: Session, actor: User, batch: Batch, action: str) -> None:
    hidden = sum(1 for seen in item_visibility(session, actor, batch).values() if not seen)
    if hidden:
        raise ClearanceInsufficient(f"{action} {batch.batch_id}", actor.username, hidden)


def save(row: DispositionBatch, batch: Batch) -> None:
    row.state_json = batch_to_dict(batch)
    row.state = batch.state.value
    row.item_count = len(batch.items)
    row.updated_at = utcnow()


def create(
    session: Session,
    actor: User,
    as_of: date,
    *,
    required_approvals: int,
    archive_id: int | None = None,
    erasure_request_id: int | None = None,
    documents: Sequence[str] | None = None,
) -> tuple[DispositionBatch, Batch]:
    """A batch of everything eligible on ``as_of`` (optionally one archive or some records)."""
    require(actor, Capability.MANAGE_RETENTION)
    report = compute_plan(session, as_of, archive_id=archive_id, sight=Sight.of(session, actor))
    if not report.plan.eligible:
        raise Conflict(f"nothing is eligible for destruction on {as_of.isoformat()}")
    number = batch_number(session, utcnow().year)
    try:
        batch = engine_create_batch(
            number,
            report.plan,
            actor.username,
            utcnow(),
            required_approvals=required_approvals,
            record_ids=documents,
        ).submit()
    except RetentionError as error:
        raise translate(error) from None
    row = DispositionBatch(
        number=number,
        state=batch.state.value,
        as_of=as_of,
        state_json={},
        created_by_id=actor.id,
        erasure_request_id=erasure_request_id,
    )
    save(row, batch)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "retention.batch.create",
        "disposition_batch",
        number,
        after={
            "as_of": as_of.isoformat(),
            "items": [item.record_id for item in batch.items],
            "required_approvals": required_approvals,
        },
    )
    return row, batch


def review(
    session: Session,
    actor: User,
    number: str,
    documents: Sequence[str] | None,
    action: str,
    *,
    reason: str = "",
    review_on: date | None = None,
) -> Batch:
    """Review the named items (``None``: every item) destroy or extend."""
    require(actor, Capability.MANAGE_RETENTION)
    try:
        action = ReviewAction(action)
    except ValueError:
        raise ValidationFailed({"action": "use destroy or extend"}) from None
    row, batch = load(session, number, for_update=True)
    refuse_while_destroying(session, row)
    now = utcnow()
    if action is ReviewAction.EXTEND and review_on is None:
        review_on = now.date() + DEFAULT_EXTENSION
    seen = item_visibility(session, actor, batch)
    if documents:
        targets = [number.strip() for number in documents]
        for target in targets:
            if not seen.get(target, True):  # an unknown id is the engine's to refuse
                raise NotFound("document", target)
    else:
        targets = [record_id for record_id, visible in seen.items() if visible]
    try:
        for record_id in targets:
            batch = batch.review(
                record_id, action, actor.username, now, reason=reason, review_on=review_on
            )
    except RetentionError as error:
        raise translate(error) from None
    save(row, batch)
    session.flush()
    audit.record(
        session,
        actor,
        "retention.batch.review",
        "disposition_batch",
        row.number,
        after={
            "action": action.value,
            "documents": targets,
            "reason": reason,
            "review_on": review_on.isoformat() if review_on else None,
        },
    )
    return batch


def approve(session: Session, actor: User, number: str) -> Batch:
    require(actor, Capability.APPROVE_DESTRUCTION)
    row, batch = load(session, number, for_update=True)
    refuse_while_destroying(session, row)
    require_sight_of_every_item(session, actor, batch, "approve destruction list")
    before = batch.approval_count
    try:
        batch = batch.approve(actor.username, utcnow())
    except RetentionError as error:
        raise translate(error) from None
    save(row, batch)
    session.flush()
    audit.record(
        session,
        actor,
        "retention.batch.approve",
        "disposition_batch",
        row.number,
        before={"approvals": before},
        after={
            "approvals": batch.approval_count,
            "required": batch.required_approvals,
            "state": batch.state.value,
            "items_digest": batch.items_digest,
        },
    )
    return batch


def cancel(session: Session, actor: User, number: str, reason: str) -> Batch:
    require(actor, Capability.MANAGE_RETENTION)
    row, batch = load(session, number, for_update=True)
    refuse_while_destroying(session, row)
    require_sight_of_every_item(session, actor, batch, "cancel destruction list")
    try:
        batch = batch.cancel(actor.username, utcnow(), reason)
    except ValueError as error:
        raise ValidationFailed({"reason": str(error)}) from None
    except RetentionError as error:
        raise translate(error) from None
    save(row, batch)
    session.flush()
    audit.record(
        session,
        actor,
        "retention.batch.cancel",
        "disposition_batch",
        row.number,
        after={"reason": reason},
    )
    return batch


@dataclass(frozen=True)
class BatchListing:
    rows: list[DispositionBatch]
    visible_items: dict[str, int]  # batch number -> items the reader may see
    hidden: int  # lists holding only records the reader may not see


def list_batches(session: Session, actor: User) -> BatchListing:
    require(actor, Capability.READ_RETENTION)
    rows = session.scalars(select(DispositionBatch).order_by(DispositionBatch.id.desc()))
    return visible_batches(session, Sight.of(session, actor), list(rows))


def visible_batches(
    session: Session, sight: Sight, rows: Sequence[DispositionBatch]
) -> BatchListing:
    """The lists ``sight`` may know of among ``rows``: a list holding only records out of
    sight is left out and counted; the items of all lists are looked up together."""
    numbers = {
        row.number: [item["record_id"] for item in row.state_json.get("items", [])] for row in rows
    }
    seen_records = visibility(
        session, sight, [record for items in numbers.values() for record in items]
    )
    shown, counts, hidden = [], {}, 0
    for row in rows:
        seen = sum(seen_records[record] for record in numbers[row.number])
        if numbers[row.number] and not seen:
            hidden += 1
            continue
        shown.append(row)
        counts[row.number] = seen
    return BatchListing(shown, counts, hidden)


@dataclass(frozen=True)
class BatchView:
    row: DispositionBatch
    batch: Batch
    visible: frozenset[str]  # record ids of the items the reader may see

    @property
    def hidden(self) -> int:
        return len(self.batch.items) - len(self.visible)


def view(session: Session, actor: User, number: str) -> BatchView:
    """A list as ``actor`` may see it; one made only of records they may not see is not
    found for them."""
    require(actor, Capability.READ_RETENTION)
    row, batch = load(session, number)
    seen = item_visibility(session, actor, batch)
    visible = frozenset(record_id for record_id, shown in seen.items() if shown)
    if batch.items and not visible:
        raise NotFound("disposition batch", number)
    audit.record(session, actor, "retention.batch.view", "disposition_batch", row.number)
    return BatchView(row, batch, visible)


def batch_document(
    row: DispositionBatch, batch: Batch, visible: frozenset[str] | None = None
) -> dict[str, Any]:
    """The list as JSON; with ``visible``, only those items, and the others counted."""

    def shown(record_id: str) -> bool:
        return visible is None or record_id in visible

    return {
        "batch": row.number,
        "state": batch.state.value,
        "hidden_items": 0 if visible is None else len(batch.items) - len(visible),
        "as_of": batch.as_of.isoformat(),
        "created_by": batch.created_by,
        "required_approvals": batch.required_approvals,
        "approvers": list(batch.approvers),
        "items": [
            {
                "document": item.record_id,
                "class": item.class_code,
                "rule": item.rule_code,
                "rule_version": item.rule_version,
                "eligible_on": item.eligible_on.isoformat(),
                "review": None
                if item.review is None
                else {
                    "action": item.review.action.value,
                    "by": item.review.reviewer,
                    "reason": item.review.reason,
                    "review_on": item.review.review_on.isoformat()
                    if item.review.review_on
                    else None,
                },
            }
            for item in batch.items
            if shown(item.record_id)
        ],
        "executed": None
        if batch.execution is None
        else {
            "executor": batch.execution.executor,
            "executed_at": batch.execution.executed_at.isoformat(),
            "destroyed": [i for i in batch.execution.destroyed_ids if shown(i)],
            "skipped": [
                {"document": s.record_id, "reason": s.reason.value, "detail": s.detail}
                for s in batch.execution.check.skipped
                if shown(s.record_id)
            ],
        },
    }
