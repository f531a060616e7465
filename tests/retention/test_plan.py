"""Plans: every record decided once, every refusal explained, counts add up."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retention import Plan, ReasonCode, RecordFacts, default_rules, plan
from tests.retention.strategies import PROPERTY, days, facts

RULES = default_rules().by_class


def record(record_id: str, class_code: str, **changes: object) -> RecordFacts:
    fields: dict[str, object] = {
        "record_id": record_id,
        "class_code": class_code,
        "declared": True,
        "document_date": date(2010, 6, 1),
    }
    fields.update(changes)
    return RecordFacts(**fields)


def test_plan_explains_every_record() -> None:
    records = [
        record("a", "report_periodic"),  # 2021-01-01: eligible
        record("b", "voucher"),  # 2041-01-01: running
        record("c", "report_periodic", hold_ids=frozenset({"LIT-1"})),
        record("d", "voucher", unsettled_claim=True),
        record("e", "other"),
        record("f", "register"),
        record("g", "contract"),
        record("h", "contract", declared=False),
        record("i", "report_periodic", destroyed=True),
    ]
    result = plan(records, RULES, date(2026, 11, 23))
    assert [d.record_id for d in result.eligible] == ["a"]
    reasons = {d.record_id: d.reason for d in result.not_eligible}
    assert reasons == {
        "b": ReasonCode.PERIOD_RUNNING,
        "c": ReasonCode.HELD,
        "d": ReasonCode.UNSETTLED_CLAIM,
        "e": ReasonCode.NO_RULE,
        "f": ReasonCode.PERMANENT,
        "g": ReasonCode.EVENT_MISSING,
        "h": ReasonCode.NOT_DECLARED,
        "i": ReasonCode.ALREADY_DESTROYED,
    }
    assert all(result.counts[r] == 1 for r in ReasonCode)
    assert result.total == 9
    assert result.with_reason(ReasonCode.HELD)[0].hold_ids == frozenset({"LIT-1"})


def test_falling_due_lists_next_years_expiries() -> None:
    records = [
        record("x", "report_periodic", document_date=date(2016, 4, 1)),  # due 2027-01-01
        record("y", "report_periodic", document_date=date(2017, 4, 1)),  # due 2028-01-01
    ]
    result = plan(records, RULES, date(2026, 11, 23))
    due = result.falling_due(date(2027, 1, 1), date(2027, 12, 31))
    assert [d.record_id for d in due] == ["x"]


def test_duplicate_records_are_refused() -> None:
    with pytest.raises(ValueError):
        plan([record("a", "voucher"), record("a", "voucher")], RULES, date(2026, 1, 1))


@PROPERTY
@given(st.lists(facts(), max_size=25, unique_by=lambda f: f.record_id), days)
def test_plan_partitions_the_input(records: list[RecordFacts], as_of: date) -> None:
    result: Plan = plan(records, RULES, as_of)
    decided = [d.record_id for d in (*result.eligible, *result.not_eligible)]
    assert sorted(decided) == sorted(r.record_id for r in records)
    assert all(d.eligible for d in result.eligible)
    assert not any(d.eligible for d in result.not_eligible)
    assert sum(result.counts.values()) == len(records)
    assert result.counts[ReasonCode.ELIGIBLE] == len(result.eligible)
    by_id = {r.record_id: r for r in records}
    for decision in result.eligible:
        facts_ = by_id[decision.record_id]
        assert facts_.declared and not facts_.destroyed
        assert not facts_.hold_ids and not facts_.unsettled_claim
