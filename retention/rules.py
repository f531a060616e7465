"""Retention rules: what period applies to a document class, from when, and on what authority.

Contract:

* ``Period`` is a number of whole years or permanent; periods are totally ordered with
  permanent above every number of years.
* ``Trigger`` says what starts the clock: the document date or a named event (contract end,
  relationship end, asset scrapped, ...), either directly (the day after) or from the end
  of the fiscal year in which that date falls. The fiscal year is the calendar year unless
  a start month is configured.
* ``RetentionRule`` is immutable and versioned. It can never be built with a period below
  its statutory minimum: the check lives in the constructor so that defaults, configuration
  loaded from a database and changes all go through it.
* ``RuleSet`` holds the current version of each rule, one rule per class. ``change``
  returns the next version of a rule (or raises ``BelowStatutoryMinimum``); ``revise``
  returns a new rule set with that version in place. Nothing is mutated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import total_ordering
from types import MappingProxyType

from retention.errors import BelowStatutoryMinimum, InvalidRule, UnknownRule

# Names of the anchors a trigger may use. Events are open-ended (an admin can add classes
# with their own events); these are the ones the shipped defaults use.
DOCUMENT_DATE = "document_date"
EVENT_CONTRACT_END = "contract_end"
EVENT_RELATIONSHIP_END = "relationship_end"
EVENT_ASSET_SCRAPPED = "asset_scrapped"

_CODE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


@total_ordering
@dataclass(frozen=True, slots=True)
class Period:
    """A retention period: ``years`` whole years, or permanent when ``years`` is None."""

    years: int | None

    def __post_init__(self) -> None:
        if self.years is not None and (
            isinstance(self.years, bool) or not isinstance(self.years, int) or self.years < 0
        ):
            raise ValueError(f"a period is a non-negative number of years, got {self.years!r}")

    @classmethod
    def parse(cls, value: int | str | Period) -> Period:
        """Accept ``30``, ``"30"``, ``"permanent"`` or a Period (configuration input)."""
        if isinstance(value, Period):
            return value
        if isinstance(value, str):
            text = value.strip().lower()
            if text in {"permanent", "永久"}:
                return cls(None)
            if text.isdigit():
                return cls(int(text))
            raise ValueError(f"not a retention period: {value!r}")
        return cls(value)

    @property
    def is_permanent(self) -> bool:
        return self.years is None

    def to_json(self) -> int | str:
        return "permanent" if self.years is None else self.years

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        if self.years is None:
            return False
        return other.years is None or self.years < other.years

    def __str__(self) -> str:
        return "permanent" if self.years is None else f"{self.years} years"


PERMANENT = Period(None)


@dataclass(frozen=True, slots=True)
class Trigger:
    """What starts the clock.

    ``anchor`` is ``"document_date"`` or the name of an event recorded on the record.
    ``fiscal`` starts the clock on the first day after the fiscal year containing the
    anchor date; otherwise it starts the day after the anchor date.
    """

    anchor: str = DOCUMENT_DATE
    fiscal: bool = False
    fiscal_year_start_month: int = 1

    def __post_init__(self) -> None:
        if not _CODE.match(self.anchor):
            raise ValueError(f"bad trigger anchor {self.anchor!r}")
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise ValueError("fiscal year start month must be 1..12")

    @classmethod
    def document_date(cls) -> Trigger:
        return cls(DOCUMENT_DATE, fiscal=False)

    @classmethod
    def fiscal_year_end(cls, start_month: int = 1) -> Trigger:
        return cls(DOCUMENT_DATE, fiscal=True, fiscal_year_start_month=start_month)

    @classmethod
    def event(cls, name: str, *, fiscal: bool = False, start_month: int = 1) -> Trigger:
        if name == DOCUMENT_DATE:
            raise ValueError("use Trigger.document_date() for the document date")
        return cls(name, fiscal=fiscal, fiscal_year_start_month=start_month)

    @property
    def event_name(self) -> str | None:
        """The event this trigger waits for, or None when it runs from the document date."""
        return None if self.anchor == DOCUMENT_DATE else self.anchor

    def describe(self) -> str:
        base = "document date" if self.event_name is None else f"event {self.event_name!r}"
        if not self.fiscal:
            return f"day after {base}"
        month = (
            ""
            if self.fiscal_year_start_month == 1
            else f" (FY from month {self.fiscal_year_start_month})"
        )
        return f"end of fiscal year of {base}{month}"


@dataclass(frozen=True, slots=True)
class Citation:
    """The authority for a rule, in Chinese and English."""

    zh: str
    en: str

    def to_json(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """One version of the retention rule of one document class.

    ``statutory_minimum`` is None when no law sets a period (company policy only). The
    constructor refuses a period below the minimum, so no configured rule can undercut it.
    """

    code: str
    class_code: str
    period: Period
    trigger: Trigger
    citation: Citation
    statutory_minimum: Period | None = None
    version: int = 1
    change_reason: str = ""

    def __post_init__(self) -> None:
        for name in ("code", "class_code"):
            if not _CODE.match(getattr(self, name)):
                raise InvalidRule(str(self.code), f"bad {name} {getattr(self, name)!r}")
        if self.version < 1:
            raise InvalidRule(self.code, "versions start at 1")
        if self.statutory_minimum is not None and self.period < self.statutory_minimum:
            raise BelowStatutoryMinimum(self.code, self.period, self.statutory_minimum)

    @property
    def is_permanent(self) -> bool:
        return self.period.is_permanent

    @property
    def event_name(self) -> str | None:
        return self.trigger.event_name

    def with_period(self, new_period: Period | int | str, reason: str) -> RetentionRule:
        """The next version of this rule with another period (checked against the minimum)."""
        period = Period.parse(new_period)
        if not reason or not reason.strip():
            raise InvalidRule(self.code, "a rule change needs a reason")
        if self.statutory_minimum is not None and period < self.statutory_minimum:
            raise BelowStatutoryMinimum(self.code, period, self.statutory_minimum)
        return replace(self, period=period, version=self.version + 1, change_reason=reason.strip())


@dataclass(frozen=True)
class RuleSet:
    """The current version of every rule, at most one rule per class. Immutable."""

    rules: Mapping[str, RetentionRule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_code: dict[str, RetentionRule] = {}
        classes: dict[str, str] = {}
        for code, rule in dict(self.rules).items():
            if code != rule.code:
                raise InvalidRule(code, f"keyed under {code!r} but named {rule.code!r}")
            if rule.class_code in classes:
                raise InvalidRule(
                    code, f"class {rule.class_code!r} already has rule {classes[rule.class_code]!r}"
                )
            classes[rule.class_code] = code
            by_code[code] = rule
        object.__setattr__(self, "rules", MappingProxyType(by_code))

    @classmethod
    def of(cls, rules: Iterable[RetentionRule]) -> RuleSet:
        collected: dict[str, RetentionRule] = {}
        for rule in rules:
            if rule.code in collected:
                raise InvalidRule(rule.code, "defined twice")
            collected[rule.code] = rule
        return cls(collected)

    def __iter__(self) -> Iterator[RetentionRule]:
        return iter(self.rules.values())

    def __len__(self) -> int:
        return len(self.rules)

    def __contains__(self, rule_code: object) -> bool:
        return rule_code in self.rules

    def get(self, rule_code: str) -> RetentionRule:
        try:
            return self.rules[rule_code]
        except KeyError:
            raise UnknownRule(rule_code) from None

    def for_class(self, class_code: str) -> RetentionRule | None:
        return self.by_class.get(class_code)

    @property
    def by_class(self) -> Mapping[str, RetentionRule]:
        """Rules keyed by the class they apply to: the shape ``plan`` and ``decide`` use."""
        return MappingProxyType({rule.class_code: rule for rule in self.rules.values()})

    def change(self, rule_code: str, new_period: Period | int | str, reason: str) -> RetentionRule:
        """Next version of ``rule_code`` with ``new_period``; the set itself is unchanged.

        Raises ``BelowStatutoryMinimum`` when the period would undercut the law and
        ``UnknownRule`` for an unknown code.
        """
        return self.get(rule_code).with_period(new_period, reason)

    def with_rule(self, rule: RetentionRule) -> RuleSet:
        """A new set with ``rule`` added, or replacing the version right before it."""
        current = self.rules.get(rule.code)
        if current is not None and rule.version != current.version + 1:
            raise InvalidRule(
                rule.code, f"version {rule.version} does not follow version {current.version}"
            )
        if current is not None and rule.class_code != current.class_code:
            raise InvalidRule(rule.code, "a new version cannot move the rule to another class")
        return RuleSet({**self.rules, rule.code: rule})

    def revise(self, rule_code: str, new_period: Period | int | str, reason: str) -> RuleSet:
        """Shortcut for ``with_rule(change(...))``."""
        return self.with_rule(self.change(rule_code, new_period, reason))
