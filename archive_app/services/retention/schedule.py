"""Retention rules in the database: seeded from the engine's shipped defaults, versioned.

Contract: ``retention_rule_versions`` holds every version of every rule; the highest
version of a code is current. ``seed_rules`` adds version 1 of each shipped rule that is
missing (idempotent) and points each document class whose ``retention_rule`` is unset or
still the shipped placeholder (its own code) at the rule for that class. ``change_rule``
goes through the engine (``RetentionRule.with_period``), so nothing can be configured below
a statutory minimum (``BelowMinimum`` carries rule, requested and minimum), and writes a new
version with its reason and actor, audited. ``rules_by_class`` maps each document class code
to the current rule its ``retention_rule`` names, relabelled for that class (several classes
may share a rule); classes without one get none (NO_RULE).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.errors import NotFound, ValidationFailed
from archive_app.models import DocumentClass, RetentionRuleVersion, User
from archive_app.permissions import Capability, require
from archive_app.services import audit
from archive_app.services.retention.errors import translate
from retention import (
    Citation,
    Period,
    RetentionError,
    RetentionRule,
    RuleSet,
    Trigger,
    default_rules,
)


def _to_row(rule: RetentionRule, actor: User | None) -> RetentionRuleVersion:
    return RetentionRuleVersion(
        code=rule.code,
        version=rule.version,
        class_code=rule.class_code,
        period=str(rule.period.to_json()),
        statutory_minimum=None
        if rule.statutory_minimum is None
        else str(rule.statutory_minimum.to_json()),
        trigger_anchor=rule.trigger.anchor,
        trigger_fiscal=rule.trigger.fiscal,
        fiscal_year_start_month=rule.trigger.fiscal_year_start_month,
        citation_zh=rule.citation.zh,
        citation_en=rule.citation.en,
        reason=rule.change_reason or "shipped default",
        created_by_id=actor.id if actor is not None else None,
    )


def to_rule(row: RetentionRuleVersion) -> RetentionRule:
    return RetentionRule(
        code=row.code,
        class_code=row.class_code,
        period=Period.parse(row.period),
        trigger=Trigger(row.trigger_anchor, row.trigger_fiscal, row.fiscal_year_start_month),
        citation=Citation(row.citation_zh, row.citation_en),
        statutory_minimum=None
        if row.statutory_minimum is None
        else Period.parse(row.statutory_minimum),
        version=row.version,
        change_reason=row.reason,
    )


def seed_rules(session: Session) -> list[str]:
    """Add the shipped rules that are missing and map the classes; returns codes added."""
    existing = set(session.scalars(select(RetentionRuleVersion.code).distinct()))
    added = []
    for rule in default_rules():
        if rule.code not in existing:
            session.add(_to_row(rule, None))
            added.append(rule.code)
    session.flush()
    by_class = {rule.class_code: rule.code for rule in current_rule_set(session)}
    for document_class in session.scalars(select(DocumentClass)):
        target = by_class.get(document_class.code)
        placeholder = document_class.retention_rule in (None, "", document_class.code)
        if target and placeholder and document_class.retention_rule != target:
            document_class.retention_rule = target
    session.flush()
    if added:
        audit.record(
            session,
            None,
            "retention.rules.seed",
            "retention_rule",
            "defaults",
            after={"added": added},
        )
    return added


def current_rows(session: Session) -> list[RetentionRuleVersion]:
    rows = session.scalars(
        select(RetentionRuleVersion).order_by(
            RetentionRuleVersion.code, RetentionRuleVersion.version
        )
    )
    latest: dict[str, RetentionRuleVersion] = {}
    for row in rows:
        latest[row.code] = row
    return list(latest.values())


def current_rule_set(session: Session) -> RuleSet:
    return RuleSet.of(to_rule(row) for row in current_rows(session))


def rules_by_class(session: Session, rule_set: RuleSet | None = None) -> dict[str, RetentionRule]:
    rule_set = rule_set or current_rule_set(session)
    mapping: dict[str, RetentionRule] = {}
    for code, rule_code in session.execute(
        select(DocumentClass.code, DocumentClass.retention_rule)
    ):
        if rule_code and rule_code in rule_set:
            # Several classes may file under one rule (总账, 明细账 and 日记账 under the
            # ledger rule): each is decided by the rule as if written for its own class.
            mapping[code] = replace(rule_set.get(rule_code), class_code=code)
    return mapping


@dataclass(frozen=True)
class RuleView:
    rule: RetentionRule
    classes: tuple[str, ...]
    created_at: str
    created_by: str


def list_rules(session: Session, actor: User) -> list[RuleView]:
    require(actor, Capability.READ_RETENTION)
    classes: dict[str, list[str]] = {}
    for code, rule_code in session.execute(
        select(DocumentClass.code, DocumentClass.retention_rule)
    ):
        if rule_code:
            classes.setdefault(rule_code, []).append(code)
    return [
        RuleView(
            to_rule(row),
            tuple(classes.get(row.code, ())),
            row.created_at.isoformat(),
            row.created_by.username if row.created_by else audit.SYSTEM_ACTOR,
        )
        for row in current_rows(session)
    ]


def change_rule(
    session: Session, actor: User, code: str, period: str, reason: str
) -> RetentionRule:
    """A new version of rule ``code`` with ``period`` (years or ``permanent``)."""
    require(actor, Capability.MANAGE_RETENTION)
    if not reason.strip():
        raise ValidationFailed({"reason": "a rule change needs a reason"})
    rule_set = current_rule_set(session)
    if code not in rule_set:
        raise NotFound("retention rule", code)
    try:
        new_rule = rule_set.change(code, period, reason)
    except ValueError as error:
        raise ValidationFailed({"period": str(error)}) from None
    except RetentionError as error:
        raise translate(error) from None
    old = rule_set.get(code)
    session.add(_to_row(new_rule, actor))
    session.flush()
    audit.record(
        session,
        actor,
        "retention.rule.change",
        "retention_rule",
        code,
        before={"version": old.version, "period": str(old.period.to_json())},
        after={
            "version": new_rule.version,
            "period": str(new_rule.period.to_json()),
            "reason": new_rule.change_reason,
        },
    )
    return new_rule
