"""Batch <-> plain JSON-safe dict, so the application can store a batch and rebuild it.

Contract: ``batch_from_dict(batch_to_dict(b)) == b`` for every batch in every state. The
dict holds only strings, integers, booleans, None, lists and dicts; dates are ISO 8601
strings and datetimes ISO 8601 with their UTC offset. The format carries a ``schema`` number
so that a stored batch from an older version is refused rather than misread.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from retention.decide import Decision, ReasonCode
from retention.disposition import (
    Approval,
    Batch,
    BatchItem,
    BatchState,
    Execution,
    ExecutionCheck,
    Review,
    ReviewAction,
    SkippedItem,
    SkipReason,
)
from retention.rules import Citation

SCHEMA = 1


def _d(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _pd(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _t(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _pt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _reason(value: str) -> ReasonCode | SkipReason:
    return ReasonCode(value) if value in ReasonCode.__members__ else SkipReason(value)


def decision_to_dict(d: Decision) -> dict[str, Any]:
    return {
        "record_id": d.record_id,
        "class_code": d.class_code,
        "eligible": d.eligible,
        "reason": d.reason.value,
        "eligible_on": _d(d.eligible_on),
        "rule_code": d.rule_code,
        "rule_version": d.rule_version,
        "citation": d.citation.to_json() if d.citation else None,
        "detail": d.detail,
        "as_of": d.as_of.isoformat(),
        "hold_ids": sorted(d.hold_ids),
        "missing_event": d.missing_event,
        "restricted": d.restricted,
    }


def decision_from_dict(data: dict[str, Any]) -> Decision:
    citation = data["citation"]
    as_of = _pd(data["as_of"])
    assert as_of is not None
    return Decision(
        record_id=data["record_id"],
        class_code=data["class_code"],
        eligible=data["eligible"],
        reason=ReasonCode(data["reason"]),
        eligible_on=_pd(data["eligible_on"]),
        rule_code=data["rule_code"],
        rule_version=data["rule_version"],
        citation=Citation(**citation) if citation else None,
        detail=data["detail"],
        as_of=as_of,
        hold_ids=frozenset(data["hold_ids"]),
        missing_event=data["missing_event"],
        restricted=data["restricted"],
    )


def _review_to_dict(r: Review | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "action": r.action.value,
        "reviewer": r.reviewer,
        "reviewed_at": _t(r.reviewed_at),
        "reason": r.reason,
        "review_on": _d(r.review_on),
    }


def _review_from_dict(data: dict[str, Any] | None) -> Review | None:
    if data is None:
        return None
    reviewed_at = _pt(data["reviewed_at"])
    assert reviewed_at is not None
    return Review(
        ReviewAction(data["action"]),
        data["reviewer"],
        reviewed_at,
        data["reason"],
        _pd(data["review_on"]),
    )


def _check_to_dict(c: ExecutionCheck) -> dict[str, Any]:
    return {
        "batch_id": c.batch_id,
        "items_digest": c.items_digest,
        "as_of": c.as_of.isoformat(),
        "to_destroy": [decision_to_dict(d) for d in c.to_destroy],
        "skipped": [
            {
                "record_id": s.record_id,
                "reason": s.reason.value,
                "detail": s.detail,
                "hold_ids": sorted(s.hold_ids),
            }
            for s in c.skipped
        ],
        "items_checked": c.items_checked,
    }


def _check_from_dict(data: dict[str, Any]) -> ExecutionCheck:
    return ExecutionCheck(
        batch_id=data["batch_id"],
        items_digest=data["items_digest"],
        as_of=date.fromisoformat(data["as_of"]),
        to_destroy=tuple(decision_from_dict(d) for d in data["to_destroy"]),
        skipped=tuple(
            SkippedItem(s["record_id"], _reason(s["reason"]), s["detail"], frozenset(s["hold_ids"]))
            for s in data["skipped"]
        ),
        items_checked=data["items_checked"],
    )


def batch_to_dict(batch: Batch) -> dict[str, Any]:
    execution = batch.execution
    return {
        "schema": SCHEMA,
        "batch_id": batch.batch_id,
        "created_by": batch.created_by,
        "created_at": _t(batch.created_at),
        "as_of": batch.as_of.isoformat(),
        "required_approvals": batch.required_approvals,
        "state": batch.state.value,
        "items": [
            {
                "record_id": i.record_id,
                "class_code": i.class_code,
                "rule_code": i.rule_code,
                "rule_version": i.rule_version,
                "eligible_on": i.eligible_on.isoformat(),
                "review": _review_to_dict(i.review),
            }
            for i in batch.items
        ],
        "approvals": [
            {"user": a.user, "approved_at": _t(a.approved_at), "items_digest": a.items_digest}
            for a in batch.approvals
        ],
        "execution": None
        if execution is None
        else {
            "executor": execution.executor,
            "executed_at": _t(execution.executed_at),
            "check": _check_to_dict(execution.check),
            "destroyed_ids": list(execution.destroyed_ids),
        },
        "cancelled_by": batch.cancelled_by,
        "cancelled_at": _t(batch.cancelled_at),
        "cancel_reason": batch.cancel_reason,
    }


def batch_from_dict(data: dict[str, Any]) -> Batch:
    if data.get("schema") != SCHEMA:
        raise ValueError(f"unsupported batch schema {data.get('schema')!r}")
    created_at = _pt(data["created_at"])
    assert created_at is not None
    execution = data["execution"]
    rebuilt_execution = None
    if execution is not None:
        executed_at = _pt(execution["executed_at"])
        assert executed_at is not None
        rebuilt_execution = Execution(
            executor=execution["executor"],
            executed_at=executed_at,
            check=_check_from_dict(execution["check"]),
            destroyed_ids=tuple(execution["destroyed_ids"]),
        )
    return Batch(
        batch_id=data["batch_id"],
        created_by=data["created_by"],
        created_at=created_at,
        as_of=date.fromisoformat(data["as_of"]),
        items=tuple(
            BatchItem(
                record_id=i["record_id"],
                class_code=i["class_code"],
                rule_code=i["rule_code"],
                rule_version=i["rule_version"],
                eligible_on=date.fromisoformat(i["eligible_on"]),
                review=_review_from_dict(i["review"]),
            )
            for i in data["items"]
        ),
        required_approvals=data["required_approvals"],
        state=BatchState(data["state"]),
        approvals=tuple(
            Approval(a["user"], _pt(a["approved_at"]), a["items_digest"]) for a in data["approvals"]
        ),
        execution=rebuilt_execution,
        cancelled_by=data["cancelled_by"],
        cancelled_at=_pt(data["cancelled_at"]),
        cancel_reason=data["cancel_reason"],
    )
