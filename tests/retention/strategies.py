"""Hypothesis strategies shared by the retention tests: random rules, facts and days."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from retention import (
    DOCUMENT_DATE,
    Citation,
    Period,
    RecordFacts,
    RetentionRule,
    Trigger,
)

EVENTS = ("contract_end", "relationship_end", "asset_scrapped")
CLASSES = ("voucher", "contract", "personal", "invoice", "asset_card")
CITATION = Citation(zh="测试依据", en="test authority")

# Shared by every property test here: no per-example deadline (the machine is shared and
# timing is not what these tests are about), a bounded number of examples.
PROPERTY = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])

days = st.dates(min_value=date(1950, 1, 1), max_value=date(2120, 12, 31))
years = st.integers(min_value=0, max_value=60)
periods = st.one_of(years.map(Period), st.just(Period(None)))


@st.composite
def triggers(draw: st.DrawFn) -> Trigger:
    anchor = draw(st.sampled_from((DOCUMENT_DATE, *EVENTS)))
    fiscal = draw(st.booleans())
    month = draw(st.sampled_from((1, 1, 1, 2, 3, 4, 7, 10, 12)))
    return Trigger(anchor, fiscal=fiscal, fiscal_year_start_month=month)


@st.composite
def rules(draw: st.DrawFn, class_code: str | None = None) -> RetentionRule:
    """A valid rule: its period never below its statutory minimum."""
    minimum = draw(st.one_of(st.none(), periods))
    if minimum is None:
        period = draw(periods)
    elif minimum.is_permanent:
        period = minimum
    else:
        assert minimum.years is not None
        period = draw(
            st.one_of(
                st.integers(min_value=minimum.years, max_value=80).map(Period),
                st.just(Period(None)),
            )
        )
    return RetentionRule(
        code=draw(st.sampled_from(("r.one", "r.two", "r.three"))),
        class_code=class_code or draw(st.sampled_from(CLASSES)),
        period=period,
        trigger=draw(triggers()),
        citation=CITATION,
        statutory_minimum=minimum,
        version=draw(st.integers(min_value=1, max_value=9)),
    )


@st.composite
def facts(
    draw: st.DrawFn, class_code: str | None = None, record_id: str | None = None
) -> RecordFacts:
    """Random facts: any mix of events, holds and flags."""
    return RecordFacts(
        record_id=record_id or draw(st.text("abcdef0123456789", min_size=1, max_size=8)),
        class_code=class_code or draw(st.sampled_from(CLASSES)),
        declared=draw(st.booleans()),
        document_date=draw(days),
        events=draw(st.dictionaries(st.sampled_from(EVENTS), days, max_size=3)),
        hold_ids=draw(st.frozensets(st.sampled_from(("H-1", "H-2", "H-3")), max_size=2)),
        unsettled_claim=draw(st.booleans()),
        erasure_requested=draw(st.booleans()),
        destroyed=draw(st.booleans()),
    )


@st.composite
def clean_facts(draw: st.DrawFn, class_code: str | None = None) -> RecordFacts:
    """Declared, unheld, undestroyed facts: only dates and the rule decide."""
    base = draw(facts(class_code=class_code))
    return RecordFacts(
        record_id=base.record_id,
        class_code=base.class_code,
        declared=True,
        document_date=base.document_date,
        events=base.events,
        erasure_requested=base.erasure_requested,
    )


@st.composite
def rule_and_facts(draw: st.DrawFn, clean: bool = False) -> tuple[RetentionRule, RecordFacts]:
    rule = draw(rules())
    strategy = clean_facts if clean else facts
    return rule, draw(strategy(class_code=rule.class_code))
