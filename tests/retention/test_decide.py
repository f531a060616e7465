"""Decisions: reason codes, check order and the safety properties over random inputs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from retention import (
    CHECK_ORDER,
    Period,
    ReasonCode,
    RecordFacts,
    RetentionRule,
    RuleMismatch,
    decide,
    default_rules,
    eligible_on,
)
from tests.retention.strategies import PROPERTY, days, rule_and_facts, years

RULES = default_rules().by_class


def voucher(**changes: object) -> RecordFacts:
    fields: dict[str, object] = {
        "record_id": "V-1",
        "class_code": "voucher",
        "declared": True,
        "document_date": date(2024, 3, 5),
    }
    fields.update(changes)
    return RecordFacts(**fields)


def test_voucher_becomes_eligible_on_2055_01_01() -> None:
    before = decide(voucher(), RULES["voucher"], date(2054, 12, 31))
    assert (before.eligible, before.reason, before.eligible_on) == (
        False,
        ReasonCode.PERIOD_RUNNING,
        date(2055, 1, 1),
    )
    on = decide(voucher(), RULES["voucher"], date(2055, 1, 1))
    assert on.eligible and on.reason is ReasonCode.ELIGIBLE
    assert (on.rule_code, on.rule_version) == ("acc.voucher", 1)
    assert on.citation == RULES["voucher"].citation


@pytest.mark.parametrize(
    ("facts", "rule", "reason"),
    [
        (
            voucher(destroyed=True, hold_ids=frozenset({"H"})),
            RULES["voucher"],
            ReasonCode.ALREADY_DESTROYED,
        ),
        (
            voucher(declared=False, hold_ids=frozenset({"H"})),
            RULES["voucher"],
            ReasonCode.NOT_DECLARED,
        ),
        (
            voucher(hold_ids=frozenset({"H"}), unsettled_claim=True),
            RULES["voucher"],
            ReasonCode.HELD,
        ),
        (voucher(unsettled_claim=True), RULES["voucher"], ReasonCode.UNSETTLED_CLAIM),
        (voucher(class_code="other"), None, ReasonCode.NO_RULE),
        (voucher(class_code="report_annual"), RULES["report_annual"], ReasonCode.PERMANENT),
        (voucher(class_code="contract"), RULES["contract"], ReasonCode.EVENT_MISSING),
        (voucher(), RULES["voucher"], ReasonCode.PERIOD_RUNNING),
    ],
)
def test_each_reason_on_a_long_past_day(
    facts: RecordFacts, rule: RetentionRule | None, reason: ReasonCode
) -> None:
    as_of = date(2060, 1, 1) if reason is not ReasonCode.PERIOD_RUNNING else date(2030, 1, 1)
    decision = decide(facts, rule, as_of)
    assert decision.reason is reason
    assert not decision.eligible


def test_check_order_is_the_documented_one() -> None:
    assert CHECK_ORDER == (
        ReasonCode.ALREADY_DESTROYED,
        ReasonCode.NOT_DECLARED,
        ReasonCode.HELD,
        ReasonCode.UNSETTLED_CLAIM,
        ReasonCode.NO_RULE,
        ReasonCode.PERMANENT,
        ReasonCode.EVENT_MISSING,
        ReasonCode.PERIOD_RUNNING,
        ReasonCode.ELIGIBLE,
    )
    assert set(CHECK_ORDER) == set(ReasonCode)


def test_held_lists_every_hold_and_still_reports_the_due_date() -> None:
    decision = decide(voucher(hold_ids={"LIT-7", "TAX-2"}), RULES["voucher"], date(2060, 1, 1))
    assert decision.hold_ids == frozenset({"LIT-7", "TAX-2"})
    assert "LIT-7" in decision.detail and "TAX-2" in decision.detail
    assert decision.eligible_on == date(2055, 1, 1)


def test_event_triggered_contract() -> None:
    contract = voucher(class_code="contract", record_id="C-1")
    missing = decide(contract, RULES["contract"], date(2099, 1, 1))
    assert missing.reason is ReasonCode.EVENT_MISSING and missing.missing_event == "contract_end"
    assert missing.eligible_on is None
    ended = voucher(
        class_code="contract", record_id="C-1", events={"contract_end": date(2026, 6, 30)}
    )
    assert decide(ended, RULES["contract"], date(2036, 6, 30)).reason is ReasonCode.PERIOD_RUNNING
    assert decide(ended, RULES["contract"], date(2036, 7, 1)).eligible


def test_asset_card_runs_from_fiscal_year_end_of_scrapping() -> None:
    card = RecordFacts(
        record_id="A-1",
        class_code="asset_card",
        declared=True,
        document_date=date(2001, 5, 1),
        events={"asset_scrapped": date(2020, 8, 15)},
    )
    decision = decide(card, RULES["asset_card"], date(2025, 12, 31))
    assert decision.reason is ReasonCode.PERIOD_RUNNING
    assert decision.eligible_on == date(2026, 1, 1)


def test_erasure_request_cuts_policy_period_to_statutory_minimum() -> None:
    personal = RecordFacts(
        record_id="P-1",
        class_code="personal",
        declared=True,
        document_date=date(2020, 1, 1),
        events={"relationship_end": date(2025, 5, 31)},
    )
    assert decide(personal, RULES["personal"], date(2025, 7, 1)).reason is ReasonCode.PERIOD_RUNNING
    erase = replace(personal, erasure_requested=True)
    assert decide(erase, RULES["personal"], date(2025, 6, 1)).eligible
    # An invoice under erasure is kept for its statutory 5 years, restricted meanwhile.
    invoice = RecordFacts(
        record_id="I-1",
        class_code="invoice",
        declared=True,
        document_date=date(2024, 3, 5),
        erasure_requested=True,
    )
    kept = decide(invoice, RULES["invoice"], date(2026, 1, 1))
    assert kept.reason is ReasonCode.PERIOD_RUNNING and kept.restricted
    assert kept.eligible_on == date(2030, 1, 1)
    # A personal record under erasure without its event is still waiting for the event.
    open_relationship = replace(erase, events={})
    assert decide(open_relationship, RULES["personal"], date(2099, 1, 1)).reason is (
        ReasonCode.EVENT_MISSING
    )


def test_rule_of_another_class_is_a_programming_error() -> None:
    with pytest.raises(RuleMismatch):
        decide(voucher(), RULES["contract"], date(2060, 1, 1))


def test_facts_are_frozen_copies() -> None:
    events = {"contract_end": date(2026, 1, 1)}
    facts = voucher(class_code="contract", events=events)
    events["contract_end"] = date(1990, 1, 1)
    assert facts.events["contract_end"] == date(2026, 1, 1)


# --- properties -----------------------------------------------------------------------------


def _statutory_due(facts: RecordFacts, rule: RetentionRule) -> date | None:
    minimum = rule.statutory_minimum
    if minimum is None or minimum.years is None:
        return None
    anchor = facts.document_date if rule.event_name is None else facts.events.get(rule.event_name)
    if anchor is None:
        return None
    return eligible_on(
        anchor,
        minimum.years,
        fiscal=rule.trigger.fiscal,
        start_month=rule.trigger.fiscal_year_start_month,
    )


@PROPERTY
@given(rule_and_facts(), days)
def test_nothing_blocked_is_ever_eligible(
    pair: tuple[RetentionRule, RecordFacts], as_of: date
) -> None:
    rule, facts = pair
    decision = decide(facts, rule, as_of)
    blocked = (
        facts.destroyed
        or not facts.declared
        or bool(facts.hold_ids)
        or facts.unsettled_claim
        or (rule.period.is_permanent and not facts.erasure_requested)
        or (rule.event_name is not None and rule.event_name not in facts.events)
    )
    if blocked:
        assert not decision.eligible
    assert decision.eligible == (decision.reason is ReasonCode.ELIGIBLE)
    if decision.eligible:
        assert decision.eligible_on is not None and as_of >= decision.eligible_on
    if decision.eligible_on is not None and as_of < decision.eligible_on:
        assert not decision.eligible


@PROPERTY
@given(rule_and_facts(), days)
def test_statutory_permanent_is_never_eligible(
    pair: tuple[RetentionRule, RecordFacts], as_of: date
) -> None:
    rule, facts = pair
    if rule.statutory_minimum is not None and rule.statutory_minimum.is_permanent:
        assert not decide(facts, rule, as_of).eligible


@PROPERTY
@given(rule_and_facts(), days)
def test_event_triggered_record_without_event_is_never_eligible(
    pair: tuple[RetentionRule, RecordFacts], as_of: date
) -> None:
    rule, facts = pair
    assume(rule.event_name is not None)
    without = replace(facts, events={})
    decision = decide(without, rule, as_of)
    assert not decision.eligible
    assert decision.eligible_on is None


@PROPERTY
@given(rule_and_facts(clean=True), days, st.integers(min_value=0, max_value=40_000))
def test_eligibility_is_monotonic_in_as_of(
    pair: tuple[RetentionRule, RecordFacts], day: date, later_by: int
) -> None:
    rule, facts = pair
    first = decide(facts, rule, day)
    later = decide(facts, rule, day + timedelta(days=later_by))
    if first.eligible:
        assert later.eligible
    # And the boundary is exactly eligible_on.
    if first.eligible_on is not None:
        assert first.eligible == (day >= first.eligible_on)


@PROPERTY
@given(rule_and_facts(), days)
def test_eligible_on_never_precedes_the_statutory_minimum(
    pair: tuple[RetentionRule, RecordFacts], as_of: date
) -> None:
    rule, facts = pair
    decision = decide(facts, rule, as_of)
    statutory = _statutory_due(facts, rule)
    if statutory is not None and decision.eligible_on is not None:
        assert decision.eligible_on >= statutory
    if decision.eligible and statutory is not None:
        assert as_of >= statutory


@PROPERTY
@given(rule_and_facts(), days)
def test_decision_is_deterministic_and_echoes_the_rule(
    pair: tuple[RetentionRule, RecordFacts], as_of: date
) -> None:
    rule, facts = pair
    decision = decide(facts, rule, as_of)
    assert decision == decide(facts, rule, as_of)
    assert (decision.rule_code, decision.rule_version) == (rule.code, rule.version)
    assert decision.record_id == facts.record_id and decision.as_of == as_of
    assert decision.restricted == (
        facts.erasure_requested and not decision.eligible and not facts.destroyed
    )


@PROPERTY
@given(rule_and_facts(clean=True), years, days)
def test_lengthening_a_rule_never_makes_a_record_eligible_earlier(
    pair: tuple[RetentionRule, RecordFacts], period: int, as_of: date
) -> None:
    # A finite period and no erasure request, made so rather than filtered (filtering threw
    # away most examples, and Hypothesis rightly complained now and then).
    rule, facts = pair
    if rule.period.is_permanent:
        rule = replace(rule, period=Period(period), statutory_minimum=None)
    facts = replace(facts, erasure_requested=False)
    assert rule.period.years is not None
    longer = rule.with_period(Period(rule.period.years + 1), "extend")
    if decide(facts, longer, as_of).eligible:
        assert decide(facts, rule, as_of).eligible
