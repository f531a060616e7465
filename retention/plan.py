"""Appraisal plan (鉴定): decide every record on one day and say why each one is kept.

Contract: ``plan(records, rules_by_class, as_of)`` calls ``decide`` once per record, in the
order given, and splits the decisions into eligible and not eligible. Every input record
appears in exactly one list; ``counts`` has one entry per ``ReasonCode`` (zero included)
and sums to the number of records. A record whose class has no rule is reported as
``NO_RULE``, never dropped. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from retention.decide import Decision, ReasonCode, RecordFacts, decide
from retention.rules import RetentionRule


@dataclass(frozen=True, slots=True)
class Plan:
    as_of: date
    eligible: tuple[Decision, ...]
    not_eligible: tuple[Decision, ...]
    counts: Mapping[ReasonCode, int]

    @property
    def total(self) -> int:
        return len(self.eligible) + len(self.not_eligible)

    def falling_due(self, start: date, end: date) -> tuple[Decision, ...]:
        """Records whose period ends in ``[start, end]`` (year-end review: 'due next year')."""
        return tuple(
            d
            for d in self.not_eligible
            if d.reason is ReasonCode.PERIOD_RUNNING
            and d.eligible_on is not None
            and start <= d.eligible_on <= end
        )

    def with_reason(self, reason: ReasonCode) -> tuple[Decision, ...]:
        source = self.eligible if reason is ReasonCode.ELIGIBLE else self.not_eligible
        return tuple(d for d in source if d.reason is reason)


def plan(
    records: Iterable[RecordFacts],
    rules_by_class: Mapping[str, RetentionRule],
    as_of: date,
) -> Plan:
    """Decide every record on ``as_of`` using the rule of its class."""
    eligible: list[Decision] = []
    not_eligible: list[Decision] = []
    seen: set[str] = set()
    for facts in records:
        if facts.record_id in seen:
            # Two facts for one record would make the plan ambiguous about which one won.
            raise ValueError(f"record {facts.record_id!r} appears twice in the plan input")
        seen.add(facts.record_id)
        decision = decide(facts, rules_by_class.get(facts.class_code), as_of)
        (eligible if decision.eligible else not_eligible).append(decision)
    counts = Counter({reason: 0 for reason in ReasonCode})
    counts.update(d.reason for d in (*eligible, *not_eligible))
    return Plan(
        as_of=as_of,
        eligible=tuple(eligible),
        not_eligible=tuple(not_eligible),
        counts=MappingProxyType(dict(counts)),
    )
