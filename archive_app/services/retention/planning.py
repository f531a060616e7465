"""The appraisal plan (鉴定) on any day: what is eligible, and why everything else is not.

Contract: ``make_plan`` decides every record the actor may see (destroyed stubs included,
reported as ALREADY_DESTROYED) with the current rules through the engine's ``plan``;
records above the actor's clearance, or restricted after an erasure request, are left out
and only counted (``hidden``). Nothing is changed apart from one audit entry (reading the
plan is a view). ``PlanReport.as_dict`` is the JSON shape the CLI prints and the page
renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from archive_app.models import User
from archive_app.permissions import Capability, Sight, require
from archive_app.services import audit
from archive_app.services.retention.facts import RecordRow, load_facts, visible_only
from archive_app.services.retention.schedule import current_rule_set, rules_by_class
from retention import Decision, Plan, plan


@dataclass(frozen=True)
class PlanReport:
    plan: Plan
    rows: dict[str, RecordRow]
    hidden: int = 0  # records the actor may not see, left out of the plan

    def decision_dict(self, decision: Decision) -> dict[str, Any]:
        row = self.rows[decision.record_id]
        return {
            "document": row.number,
            "archive": row.archive_number,
            "title": row.title,
            "class": row.class_code,
            "eligible": decision.eligible,
            "reason": decision.reason.value,
            "detail": decision.detail,
            "eligible_on": decision.eligible_on.isoformat() if decision.eligible_on else None,
            "rule": decision.rule_code,
            "rule_version": decision.rule_version,
            "holds": sorted(decision.hold_ids),
            "missing_event": decision.missing_event,
            "restricted": decision.restricted,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.plan.as_of.isoformat(),
            "total": self.plan.total,
            "hidden": self.hidden,
            "counts": {reason.value: n for reason, n in self.plan.counts.items()},
            "eligible": [self.decision_dict(d) for d in self.plan.eligible],
            "not_eligible": [self.decision_dict(d) for d in self.plan.not_eligible],
        }


def compute_plan(
    session: Session, as_of: date, *, archive_id: int | None = None, sight: Sight | None = None
) -> PlanReport:
    """The plan of every record, or of those ``sight`` may see. No permission check and
    no audit: the scheduled appraisal uses it as the system; use cases pass the actor's
    sight."""
    facts, rows = load_facts(session, archive_id=archive_id)
    hidden = 0
    if sight is not None:
        facts, rows, hidden = visible_only(sight, facts, rows)
    rules = rules_by_class(session, current_rule_set(session))
    return PlanReport(plan(facts.values(), rules, as_of), rows, hidden)


def make_plan(session: Session, actor: User, as_of: date) -> PlanReport:
    require(actor, Capability.READ_RETENTION)
    report = compute_plan(session, as_of, sight=Sight.of(session, actor))
    audit.record(
        session,
        actor,
        "retention.plan.view",
        "retention_plan",
        as_of.isoformat(),
        after={"eligible": len(report.plan.eligible), "total": report.plan.total},
    )
    return report
