"""Rules: shipped defaults, versioned changes and the statutory floor."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retention import (
    CLASS_CODES,
    PERMANENT,
    BelowStatutoryMinimum,
    Citation,
    InvalidRule,
    Period,
    RetentionRule,
    RuleSet,
    Trigger,
    UnknownRule,
    default_rules,
)
from tests.retention.strategies import PROPERTY, periods, rules

EXPECTED_DEFAULTS = {
    # class: (period, minimum, anchor, fiscal)
    "voucher": (Period(30), Period(30), "document_date", True),
    "ledger": (Period(30), Period(30), "document_date", True),
    "asset_card": (Period(5), Period(5), "asset_scrapped", True),
    "report_periodic": (Period(10), Period(10), "document_date", True),
    "report_annual": (PERMANENT, PERMANENT, "document_date", True),
    "bank_statement": (Period(10), Period(10), "document_date", True),
    "tax_return": (Period(10), Period(10), "document_date", True),
    "transfer_register": (Period(30), Period(30), "document_date", True),
    "register": (PERMANENT, PERMANENT, "document_date", True),
    "contract": (Period(10), None, "contract_end", False),
    "invoice": (Period(10), Period(5), "document_date", True),
    "personal": (Period(3), None, "relationship_end", False),
}


def test_defaults_match_the_table() -> None:
    by_class = default_rules().by_class
    assert set(by_class) == set(EXPECTED_DEFAULTS)
    assert set(by_class) | {"other"} == set(CLASS_CODES)
    for class_code, (period, minimum, anchor, fiscal) in EXPECTED_DEFAULTS.items():
        rule = by_class[class_code]
        assert rule.period == period, class_code
        assert rule.statutory_minimum == minimum, class_code
        assert rule.trigger.anchor == anchor, class_code
        assert rule.trigger.fiscal is fiscal, class_code
        assert rule.version == 1
        assert rule.citation.zh and rule.citation.en


def test_accounting_rules_cite_annex_1() -> None:
    for rule in default_rules():
        if rule.code.startswith("acc."):
            assert "《会计档案管理办法》(2015) 附表1" in rule.citation.zh
            assert "Annex 1" in rule.citation.en


def test_class_other_has_no_rule() -> None:
    assert default_rules().for_class("other") is None


def test_default_configuration_knobs() -> None:
    rule_set = default_rules(fiscal_year_start_month=4, personal_data_years=5)
    assert rule_set.for_class("personal").period == Period(5)
    assert rule_set.for_class("voucher").trigger.fiscal_year_start_month == 4
    assert default_rules(contract_years=7).get("policy.contract").period == Period(7)
    assert default_rules(invoice_years=5).get("tax.invoice").period == Period(5)
    with pytest.raises(BelowStatutoryMinimum):
        default_rules(invoice_years=4)
    overridden = default_rules(overrides={"acc.voucher": 35})
    assert overridden.get("acc.voucher").period == Period(35)
    assert overridden.get("acc.voucher").version == 2
    with pytest.raises(BelowStatutoryMinimum):
        default_rules(overrides={"acc.voucher": "10"})


def test_change_returns_next_version_and_keeps_the_set() -> None:
    rule_set = default_rules()
    new = rule_set.change("policy.contract", 15, "litigation risk review 2026")
    assert (new.period, new.version, new.change_reason) == (
        Period(15),
        2,
        "litigation risk review 2026",
    )
    assert rule_set.get("policy.contract").version == 1  # unchanged
    revised = rule_set.with_rule(new)
    assert revised.get("policy.contract") == new
    assert (
        revised.revise("policy.contract", "permanent", "board decision")
        .get("policy.contract")
        .version
        == 3
    )


def test_change_below_minimum_carries_the_data() -> None:
    with pytest.raises(BelowStatutoryMinimum) as caught:
        default_rules().change("acc.voucher", 10, "save space")
    error = caught.value
    assert (error.rule_code, error.requested, error.minimum) == (
        "acc.voucher",
        Period(10),
        Period(30),
    )


def test_permanent_minimum_cannot_become_finite() -> None:
    with pytest.raises(BelowStatutoryMinimum) as caught:
        default_rules().change("acc.report_annual", 100, "too much paper")
    assert caught.value.minimum == PERMANENT


def test_invoice_can_drop_to_its_statutory_five_years_but_not_below() -> None:
    rule_set = default_rules()
    assert rule_set.change("tax.invoice", 5, "align with the invoice rules").period == Period(5)
    with pytest.raises(BelowStatutoryMinimum):
        rule_set.change("tax.invoice", 4, "too short")


def test_change_needs_reason_and_known_rule() -> None:
    with pytest.raises(InvalidRule):
        default_rules().change("policy.contract", 12, "  ")
    with pytest.raises(UnknownRule):
        default_rules().change("nope", 12, "why not")


def test_rule_set_refuses_version_gaps_and_two_rules_per_class() -> None:
    rule_set = default_rules()
    skipped = rule_set.change("policy.contract", 12, "x")
    with pytest.raises(InvalidRule):
        rule_set.with_rule(skipped).with_rule(skipped)
    other = RetentionRule(
        code="policy.contract2",
        class_code="contract",
        period=Period(3),
        trigger=Trigger.document_date(),
        citation=Citation("公司制度", "policy"),
    )
    with pytest.raises(InvalidRule):
        rule_set.with_rule(other)


def test_constructor_enforces_minimum() -> None:
    with pytest.raises(BelowStatutoryMinimum):
        RetentionRule(
            code="acc.x",
            class_code="voucher",
            period=Period(3),
            trigger=Trigger.fiscal_year_end(),
            citation=Citation("附表1", "Annex 1"),
            statutory_minimum=Period(30),
        )


def test_period_order_and_parsing() -> None:
    assert Period(3) < Period(30) < PERMANENT
    assert not Period(10_000) > PERMANENT
    assert Period.parse("永久") == PERMANENT and Period.parse(" 7 ") == Period(7)
    with pytest.raises(ValueError):
        Period(-1)
    with pytest.raises(ValueError):
        Period.parse("ten")


@PROPERTY
@given(rules(), periods)
def test_change_is_refused_exactly_below_the_minimum(
    rule: RetentionRule, requested: Period
) -> None:
    rule_set = RuleSet.of([rule])
    minimum = rule.statutory_minimum
    if minimum is not None and requested < minimum:
        with pytest.raises(BelowStatutoryMinimum) as caught:
            rule_set.change(rule.code, requested, "property test")
        assert caught.value.requested == requested and caught.value.minimum == minimum
    else:
        new = rule_set.change(rule.code, requested, "property test")
        assert new.period == requested
        assert new.version == rule.version + 1
        assert new.statutory_minimum == minimum
        assert new.trigger == rule.trigger and new.class_code == rule.class_code


@PROPERTY
@given(rules(), st.lists(periods, max_size=6))
def test_no_sequence_of_changes_ends_below_the_minimum(
    rule: RetentionRule, requests: list[Period]
) -> None:
    rule_set = RuleSet.of([rule])
    for requested in requests:
        with contextlib.suppress(BelowStatutoryMinimum):
            rule_set = rule_set.revise(rule.code, requested, "property test")
        current = rule_set.get(rule.code)
        assert current.statutory_minimum is None or not current.period < current.statutory_minimum


def test_trigger_describe_and_validation() -> None:
    assert Trigger.fiscal_year_end().describe() == "end of fiscal year of document date"
    assert "contract_end" in Trigger.event("contract_end").describe()
    with pytest.raises(ValueError):
        Trigger.event("document_date")
    with pytest.raises(ValueError):
        Trigger("Bad Name")
