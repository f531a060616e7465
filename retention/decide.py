"""Decide whether one record may be destroyed today, and if not, why.

Contract: ``decide(facts, rule, as_of)`` is a pure function of its arguments. It never
reads a clock or a database; ``as_of`` is the day being asked about. It returns exactly one
``Decision`` with one ``ReasonCode``. ``eligible`` is True only with ``ReasonCode.ELIGIBLE``.

Checks run in this order; the first that applies gives the reason:

1. ``ALREADY_DESTROYED`` - a destroyed record has nothing left to decide; reporting it
   first keeps re-runs of a plan idempotent.
2. ``NOT_DECLARED`` - a record that is not declared (filing not confirmed) has not entered
   retention at all: its content is not frozen and no clock applies to it.
3. ``HELD`` - a legal hold beats every rule; it comes before all rule-based reasons so the
   report shows the blocker a person must lift, and it lists every hold id.
4. ``UNSETTLED_CLAIM`` - vouchers backing an unsettled claim or debt (未结清的债权债务) are
   held by law the same way; after legal holds because holds are the named, owned ones.
5. ``NO_RULE`` - without a rule nothing can be computed; a record nobody classified is
   kept. It follows the holds because a held record is held whatever its rule.
6. ``PERMANENT`` - never eligible; no event or date matters.
7. ``EVENT_MISSING`` - an event-triggered record is never eligible before its event is
   recorded (an open contract or a current customer relationship is still in use).
8. ``PERIOD_RUNNING`` - the clock runs until ``eligible_on`` (exclusive).
9. ``ELIGIBLE``.

``eligible_on`` is filled whenever it can be computed (rule present, not permanent,
anchor known), whatever the reason, so the year-end review can list what falls due.

Erasure requests (PIPL art. 47): when ``facts.erasure_requested`` is set the record is kept
only as long as the *statutory minimum* requires (zero years when there is none), with the
rule's trigger. A record still kept is reported with ``restricted=True``: the application
must restrict it to storage and security until it falls due.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from retention.clock import eligible_on as compute_eligible_on
from retention.errors import RuleMismatch
from retention.rules import Citation, Period, RetentionRule


class ReasonCode(StrEnum):
    ELIGIBLE = "ELIGIBLE"
    ALREADY_DESTROYED = "ALREADY_DESTROYED"
    NOT_DECLARED = "NOT_DECLARED"
    HELD = "HELD"
    UNSETTLED_CLAIM = "UNSETTLED_CLAIM"
    NO_RULE = "NO_RULE"
    PERMANENT = "PERMANENT"
    EVENT_MISSING = "EVENT_MISSING"
    PERIOD_RUNNING = "PERIOD_RUNNING"


# The documented precedence, first wins; ELIGIBLE is what remains.
CHECK_ORDER: tuple[ReasonCode, ...] = (
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


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What the engine needs to know about one record; the app builds it from its rows."""

    record_id: str
    class_code: str
    declared: bool
    document_date: date
    events: Mapping[str, date] = field(default_factory=dict)
    hold_ids: frozenset[str] = frozenset()
    unsettled_claim: bool = False
    erasure_requested: bool = False
    destroyed: bool = False

    def __post_init__(self) -> None:
        # Freeze the inputs so a Decision can never be changed behind the caller's back.
        object.__setattr__(self, "events", MappingProxyType(dict(self.events)))
        object.__setattr__(self, "hold_ids", frozenset(self.hold_ids))


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one record on one day."""

    record_id: str
    class_code: str
    eligible: bool
    reason: ReasonCode
    eligible_on: date | None
    rule_code: str | None
    rule_version: int | None
    citation: Citation | None
    detail: str
    as_of: date
    hold_ids: frozenset[str] = frozenset()
    missing_event: str | None = None
    restricted: bool = False


def _effective_period(facts: RecordFacts, rule: RetentionRule) -> Period:
    if facts.erasure_requested:
        return rule.statutory_minimum if rule.statutory_minimum is not None else Period(0)
    return rule.period


def _anchor(facts: RecordFacts, rule: RetentionRule) -> date | None:
    event = rule.event_name
    return facts.document_date if event is None else facts.events.get(event)


def due_date(facts: RecordFacts, rule: RetentionRule) -> date | None:
    """First day the record may be destroyed under ``rule``, ignoring holds and flags.

    None when the period is permanent or the triggering event is not recorded.
    """
    period = _effective_period(facts, rule)
    anchor = _anchor(facts, rule)
    if period.years is None or anchor is None:
        return None
    return compute_eligible_on(
        anchor,
        period.years,
        fiscal=rule.trigger.fiscal,
        start_month=rule.trigger.fiscal_year_start_month,
    )


def decide(facts: RecordFacts, rule: RetentionRule | None, as_of: date) -> Decision:
    """The decision for ``facts`` under ``rule`` (None: the class has no rule) on ``as_of``."""
    if rule is not None and rule.class_code != facts.class_code:
        raise RuleMismatch(facts.record_id, facts.class_code, rule.code, rule.class_code)

    due = due_date(facts, rule) if rule is not None else None
    period = _effective_period(facts, rule) if rule is not None else None

    def result(
        reason: ReasonCode,
        detail: str,
        *,
        hold_ids: frozenset[str] = frozenset(),
        missing_event: str | None = None,
    ) -> Decision:
        eligible = reason is ReasonCode.ELIGIBLE
        return Decision(
            record_id=facts.record_id,
            class_code=facts.class_code,
            eligible=eligible,
            reason=reason,
            eligible_on=due,
            rule_code=rule.code if rule else None,
            rule_version=rule.version if rule else None,
            citation=rule.citation if rule else None,
            detail=detail,
            as_of=as_of,
            hold_ids=hold_ids,
            missing_event=missing_event,
            restricted=facts.erasure_requested and not eligible and not facts.destroyed,
        )

    if facts.destroyed:
        return result(ReasonCode.ALREADY_DESTROYED, "record already destroyed")
    if not facts.declared:
        return result(ReasonCode.NOT_DECLARED, "record not declared; retention has not started")
    if facts.hold_ids:
        holds = ", ".join(sorted(facts.hold_ids))
        return result(ReasonCode.HELD, f"on legal hold: {holds}", hold_ids=facts.hold_ids)
    if facts.unsettled_claim:
        return result(
            ReasonCode.UNSETTLED_CLAIM,
            "backs an unsettled claim or debt (未结清的债权债务); kept until settled",
        )
    if rule is None or period is None:
        return result(ReasonCode.NO_RULE, f"no retention rule for class {facts.class_code!r}")
    basis = "statutory minimum (erasure requested)" if facts.erasure_requested else "rule"
    if period.is_permanent:
        return result(ReasonCode.PERMANENT, f"kept permanently under {basis} {rule.code}")
    event = rule.event_name
    if due is None:
        return result(
            ReasonCode.EVENT_MISSING,
            f"event {event!r} not recorded; the retention clock has not started",
            missing_event=event,
        )
    if as_of < due:
        return result(
            ReasonCode.PERIOD_RUNNING,
            f"{period} from {rule.trigger.describe()} under {basis}; eligible on {due.isoformat()}",
        )
    return result(
        ReasonCode.ELIGIBLE,
        f"{period} from {rule.trigger.describe()} under {basis} ended; "
        f"eligible since {due.isoformat()}",
    )
