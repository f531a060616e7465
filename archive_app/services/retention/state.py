"""The retention state of one record, as ``archive show`` and the document page show it.

Contract: a plain dict: the rule (code, version, period, trigger, citation), today's decision
(reason, detail, eligible date), recorded events, active holds, whether the record is
restricted after an erasure request, and for a destroyed record its stub facts (when,
batch, certificate, rule). Reading it changes nothing; the caller audits the view.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from archive_app.models import Document
from archive_app.models.base import utcnow
from archive_app.services.retention.destruction import stub_info
from archive_app.services.retention.facts import load_facts
from archive_app.services.retention.schedule import rules_by_class
from retention import decide


def retention_state(session: Session, document: Document) -> dict[str, Any]:
    facts, _rows = load_facts(session, document_numbers=[document.number])
    fact = facts[document.number]
    rule = rules_by_class(session).get(fact.class_code)
    decision = decide(fact, rule, utcnow().date())
    return {
        "rule": None
        if rule is None
        else {
            "code": rule.code,
            "version": rule.version,
            "period": rule.period.to_json(),
            "trigger": rule.trigger.describe(),
            "trigger_terms": {"event_name": rule.event_name, "fiscal": rule.trigger.fiscal},
            "citation": rule.citation.to_json(),
        },
        "reason": decision.reason.value,
        "detail": decision.detail,
        "class": fact.class_code,
        "missing_event": decision.missing_event,
        "eligible_on": decision.eligible_on.isoformat() if decision.eligible_on else None,
        "events": {name: day.isoformat() for name, day in fact.events.items()},
        "holds": sorted(fact.hold_ids),
        "unsettled_claim": fact.unsettled_claim,
        "restricted": decision.restricted,
        "destroyed": stub_info(session, document),
    }
