"""Disposition batches: review, distinct approvals, 监销 separation, re-check at execution."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retention import (
    Batch,
    BatchNotOpen,
    BatchState,
    ExecutorIsApprover,
    InvalidReview,
    ItemNotReviewed,
    NotEnoughApprovals,
    ReasonCode,
    RecordFacts,
    ReviewAction,
    SkipReason,
    StaleCheck,
    UnknownItem,
    batch_from_dict,
    batch_to_dict,
    create_batch,
    default_rules,
    execute_check,
    execution_skips,
    plan,
    record_execution,
)
from tests.retention.strategies import PROPERTY

RULES = default_rules()
AS_OF = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def report(record_id: str, **changes: object) -> RecordFacts:
    fields: dict[str, object] = {
        "record_id": record_id,
        "class_code": "report_periodic",
        "declared": True,
        "document_date": date(2012, 6, 30),
    }
    fields.update(changes)
    return RecordFacts(**fields)


FACTS = {r: report(r) for r in ("R-1", "R-2", "R-3")}


def draft(required: int = 2) -> Batch:
    return create_batch(
        "B-2026-01",
        plan(FACTS.values(), RULES.by_class, AS_OF),
        "compliance-a",
        NOW,
        required_approvals=required,
    )


def reviewed(required: int = 2) -> Batch:
    batch = draft(required).submit()
    for n, record_id in enumerate(sorted(FACTS)):
        batch = batch.review(record_id, "destroy", "compliance-a", NOW + timedelta(minutes=n))
    return batch


def approved() -> Batch:
    return reviewed().approve("head-archives", NOW).approve("head-accounting", NOW)


def test_batch_is_made_of_the_plans_eligible_records() -> None:
    records = [*FACTS.values(), report("R-held", hold_ids=frozenset({"H"}))]
    batch = create_batch("B", plan(records, RULES.by_class, AS_OF), "u", NOW)
    assert [i.record_id for i in batch.items] == ["R-1", "R-2", "R-3"]
    assert batch.state is BatchState.DRAFT and batch.required_approvals == 2
    item = batch.item("R-1")
    assert (item.rule_code, item.rule_version, item.eligible_on) == (
        "acc.report_periodic",
        1,
        date(2023, 1, 1),
    )
    with pytest.raises(UnknownItem):
        create_batch("B", plan(records, RULES.by_class, AS_OF), "u", NOW, record_ids=["R-held"])


def test_full_lifecycle() -> None:
    batch = approved()
    assert batch.state is BatchState.APPROVED
    assert batch.approvers == ("head-archives", "head-accounting")
    check = execute_check(batch, FACTS, RULES, AS_OF, executor="supervisor")
    assert check.destroy_ids == ("R-1", "R-2", "R-3") and check.skipped == ()
    done = record_execution(batch, check, "supervisor", NOW + timedelta(hours=1))
    assert done.state is BatchState.EXECUTED
    assert done.execution is not None and done.execution.destroyed_ids == check.destroy_ids
    with pytest.raises(BatchNotOpen):
        done.review("R-1", "extend", "x", NOW, reason="r", review_on=date(2030, 1, 1))
    with pytest.raises(BatchNotOpen):
        done.cancel("x", NOW, "too late")


def test_approval_needs_every_item_reviewed() -> None:
    batch = draft().submit().review("R-1", "destroy", "compliance-a", NOW)
    with pytest.raises(ItemNotReviewed) as caught:
        batch.approve("head-archives", NOW)
    assert caught.value.ids == ("R-2", "R-3")


def test_approvals_only_once_submitted() -> None:
    batch = draft()
    for record_id in FACTS:
        batch = batch.review(record_id, "destroy", "compliance-a", NOW)
    with pytest.raises(BatchNotOpen) as caught:
        batch.approve("head-archives", NOW)
    assert caught.value.state == "draft"


def test_same_user_twice_counts_once() -> None:
    batch = reviewed().approve("head-archives", NOW).approve("head-archives", NOW)
    assert batch.approval_count == 1 and batch.state is BatchState.UNDER_REVIEW
    with pytest.raises(NotEnoughApprovals) as caught:
        execute_check(batch, FACTS, RULES, AS_OF)
    assert (caught.value.have, caught.value.need) == (1, 2)


def test_required_count_is_configurable() -> None:
    batch = reviewed(required=3).approve("a", NOW).approve("b", NOW)
    assert batch.state is BatchState.UNDER_REVIEW
    assert batch.approve("c", NOW).state is BatchState.APPROVED
    assert reviewed(required=1).approve("a", NOW).state is BatchState.APPROVED


def test_changing_a_review_makes_earlier_approvals_stale() -> None:
    batch = reviewed().approve("head-archives", NOW)
    batch = batch.review(
        "R-2", "extend", "compliance-a", NOW, reason="audit sample", review_on=date(2028, 1, 1)
    )
    assert batch.approval_count == 0
    batch = batch.approve("head-accounting", NOW)
    assert batch.state is BatchState.UNDER_REVIEW  # the first approval was for another list
    batch = batch.approve("head-archives", NOW)
    assert batch.state is BatchState.APPROVED


def test_approver_cannot_execute() -> None:
    batch = approved()
    with pytest.raises(ExecutorIsApprover) as caught:
        execute_check(batch, FACTS, RULES, AS_OF, executor="head-accounting")
    assert caught.value.user == "head-accounting"
    check = execute_check(batch, FACTS, RULES, AS_OF)
    with pytest.raises(ExecutorIsApprover):
        record_execution(batch, check, "head-archives", NOW)


def test_extension_needs_reason_and_future_date() -> None:
    batch = draft().submit()
    with pytest.raises(InvalidReview):
        batch.review("R-1", "extend", "c", NOW, review_on=date(2030, 1, 1))
    with pytest.raises(InvalidReview):
        batch.review("R-1", "extend", "c", NOW, reason="needed")
    with pytest.raises(InvalidReview):
        batch.review("R-1", "extend", "c", NOW, reason="needed", review_on=date(2020, 1, 1))
    with pytest.raises(InvalidReview):
        batch.review("R-1", "destroy", "c", NOW, review_on=date(2030, 1, 1))
    with pytest.raises(UnknownItem):
        batch.review("R-9", "destroy", "c", NOW)


def test_recheck_skips_a_record_that_became_held() -> None:
    batch = approved()
    fresh = {**FACTS, "R-2": report("R-2", hold_ids=frozenset({"LIT-2026-4"}))}
    check = execute_check(batch, fresh, RULES, AS_OF, executor="supervisor")
    assert check.destroy_ids == ("R-1", "R-3")
    (skip,) = check.skipped
    assert (skip.record_id, skip.reason, skip.hold_ids) == (
        "R-2",
        ReasonCode.HELD,
        frozenset({"LIT-2026-4"}),
    )
    assert check.held_record_ids == ("R-2",)


def test_recheck_skips_a_record_whose_rule_was_extended() -> None:
    batch = approved()
    longer = RULES.revise("acc.report_periodic", 30, "regulator request")
    check = execute_check(batch, FACTS, longer, AS_OF)
    assert check.destroy_ids == ()
    assert {s.reason for s in check.skipped} == {ReasonCode.PERIOD_RUNNING}


def test_recheck_skips_when_the_rule_version_changed_even_if_still_eligible() -> None:
    batch = approved()
    longer = RULES.revise("acc.report_periodic", 11, "one more year")  # still eligible
    check = execute_check(batch, FACTS, longer, AS_OF)
    assert check.destroy_ids == ()
    assert {s.reason for s in check.skipped} == {SkipReason.RULE_CHANGED}


def test_recheck_skips_missing_reclassified_and_extended_items() -> None:
    batch = reviewed().review(
        "R-3", "extend", "compliance-a", NOW, reason="research", review_on=date(2029, 1, 1)
    )
    batch = batch.approve("a", NOW).approve("b", NOW)
    fresh = {"R-1": replace(FACTS["R-1"], class_code="voucher")}
    check = execute_check(batch, fresh, RULES, AS_OF)
    reasons = {s.record_id: s.reason for s in check.skipped}
    assert reasons == {
        "R-1": SkipReason.CLASS_CHANGED,
        "R-2": SkipReason.FACTS_MISSING,
        "R-3": SkipReason.EXTENDED,
    }
    assert check.items_checked == 3


def test_dry_run_changes_nothing() -> None:
    batch = approved()
    fresh = dict(FACTS)
    before = (batch, dict(fresh), RULES.get("acc.report_periodic"))
    first = execute_check(batch, fresh, RULES, AS_OF)
    second = execute_check(batch, fresh, RULES, AS_OF)
    assert first == second
    assert (batch, fresh, RULES.get("acc.report_periodic")) == before
    assert batch.state is BatchState.APPROVED and batch.execution is None


def test_record_execution_checks_the_check() -> None:
    batch = approved()
    check = execute_check(batch, FACTS, RULES, AS_OF)
    other = replace(check, batch_id="B-other")
    with pytest.raises(StaleCheck):
        record_execution(batch, other, "supervisor", NOW)
    with pytest.raises(StaleCheck):
        record_execution(batch, check, "supervisor", NOW, destroyed_ids=["R-9"])
    partial = record_execution(batch, check, "supervisor", NOW, destroyed_ids=["R-1", "R-3"])
    assert partial.execution is not None
    failed = [
        s for s in execution_skips(partial.execution) if s.reason is SkipReason.EXECUTION_FAILED
    ]
    assert [s.record_id for s in failed] == ["R-2"]


def test_cancel_needs_reason_and_ends_the_batch() -> None:
    batch = reviewed()
    with pytest.raises(ValueError):
        batch.cancel("c", NOW, " ")
    cancelled = batch.cancel("c", NOW, "appraisal redone")
    assert cancelled.state is BatchState.CANCELLED
    with pytest.raises(BatchNotOpen):
        execute_check(cancelled, FACTS, RULES, AS_OF)
    with pytest.raises(BatchNotOpen):
        cancelled.approve("a", NOW)


# --- properties -----------------------------------------------------------------------------

users = st.sampled_from(("ann", "bo", "chen", "dai", "eve"))


@PROPERTY
@given(st.lists(users, max_size=8), st.integers(min_value=1, max_value=4))
def test_approvals_count_distinct_users(approvers: list[str], required: int) -> None:
    batch = reviewed(required)
    for user in approvers:
        if batch.state not in (BatchState.UNDER_REVIEW, BatchState.APPROVED):
            break
        batch = batch.approve(user, NOW)
    distinct = list(dict.fromkeys(approvers))
    assert batch.approvers == tuple(distinct)
    assert (batch.state is BatchState.APPROVED) == (len(distinct) >= required)


@PROPERTY
@given(st.lists(users, min_size=2, max_size=6, unique=True), users)
def test_no_approver_ever_executes(approvers: list[str], executor: str) -> None:
    batch = reviewed()
    for user in approvers:
        batch = batch.approve(user, NOW)
    if executor in approvers:
        with pytest.raises(ExecutorIsApprover):
            execute_check(batch, FACTS, RULES, AS_OF, executor=executor)
    else:
        check = execute_check(batch, FACTS, RULES, AS_OF, executor=executor)
        assert record_execution(batch, check, executor, NOW).state is BatchState.EXECUTED


@PROPERTY
@given(
    st.fixed_dictionaries(
        {
            r: st.fixed_dictionaries(
                {
                    "hold_ids": st.frozensets(st.sampled_from(("H1", "H2")), max_size=2),
                    "unsettled_claim": st.booleans(),
                    "destroyed": st.booleans(),
                    "declared": st.booleans(),
                }
            )
            for r in FACTS
        }
    ),
    st.integers(min_value=-5000, max_value=5000),
)
def test_nothing_blocked_at_execution_is_destroyed(
    changes: dict[str, dict[str, object]], shift: int
) -> None:
    batch = approved()
    fresh = {r: replace(FACTS[r], **changes[r]) for r in FACTS}
    as_of = AS_OF + timedelta(days=shift)
    check = execute_check(batch, fresh, RULES, as_of)
    for decision in check.to_destroy:
        facts = fresh[decision.record_id]
        assert facts.declared and not facts.destroyed
        assert not facts.hold_ids and not facts.unsettled_claim
        assert decision.eligible_on is not None and as_of >= decision.eligible_on
    assert len(check.to_destroy) + len(check.skipped) == len(batch.items)
    assert {s.record_id for s in check.skipped}.isdisjoint(check.destroy_ids)


def test_review_action_values() -> None:
    assert ReviewAction("destroy") is ReviewAction.DESTROY
    assert ReviewAction("extend") is ReviewAction.EXTEND


# --- persistence --------------------------------------------------------------------------


def _states() -> list[Batch]:
    base = approved()
    fresh = {**FACTS, "R-2": report("R-2", hold_ids=frozenset({"H-1"}))}
    check = execute_check(base, fresh, RULES, AS_OF)
    extended = reviewed().review(
        "R-1", "extend", "c", NOW, reason="研究价值", review_on=date(2031, 1, 1)
    )
    return [
        draft(),
        reviewed(),
        extended.approve("a", NOW),
        base,
        record_execution(base, check, "supervisor", NOW, destroyed_ids=["R-1"]),
        reviewed().cancel("c", NOW, "redo"),
    ]


@pytest.mark.parametrize("batch", _states(), ids=lambda b: b.state.value)
def test_batch_round_trips_through_plain_json(batch: Batch) -> None:
    data = json.loads(json.dumps(batch_to_dict(batch), ensure_ascii=False))
    rebuilt = batch_from_dict(data)
    assert rebuilt == batch
    assert rebuilt.items_digest == batch.items_digest
    assert rebuilt.approvers == batch.approvers


def test_unknown_schema_is_refused() -> None:
    data = batch_to_dict(draft())
    data["schema"] = 99
    with pytest.raises(ValueError):
        batch_from_dict(data)
