"""Every state, decision, reason and class code a page shows, in the user's language.

Contract: :data:`ENUM_LABELS` maps each enumeration whose values reach a page to a dict of
value → lazily translated label, and the test suite checks that every value of every one of
them has a label. Pages never print a raw value: they go through :func:`label` (or one of
the dicts, exposed to templates), and a retention decision's English ``detail`` is said
again in the user's language by :func:`reason_text` from the decision's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from flask import g, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from archive_app.domain.classes import DEFAULT_CLASSES
from archive_app.models import ChecklistState, DocumentStatus
from archive_app.models.archive import CustomerType
from archive_app.models.inspection import InspectionState, InspectionTrigger
from archive_app.models.user import Level, Role
from archive_app.services import bootstrap
from archive_app.web.context import db_session
from archive_app.web.intake_messages import failure_text
from retention.decide import ReasonCode
from retention.disposition import BatchState, ReviewAction, SkipReason

DOCUMENT_STATUS_LABELS = {
    "queued": _l("Queued"),
    "processing": _l("Processing"),
    "ready": _l("Ready"),
    "failed": _l("Failed"),
}
CHECKLIST_STATE_LABELS = {
    "draft": _l("Draft"),
    "awaiting_review": _l("Awaiting review"),
    # Not plain "Filed": that word already means the filing time on the document page.
    "filed": _l("Confirmed and filed"),
}
LEVEL_LABELS = {
    "public": _l("Public"),
    "internal": _l("Internal"),
    "confidential": _l("Confidential"),
    "secret": _l("Secret"),
}
ROLE_LABELS = {
    "archivist": _l("Archivist"),
    "staff": _l("Staff"),
    "compliance": _l("Compliance"),
    "auditor": _l("Auditor"),
    "admin": _l("Administrator"),
}
CUSTOMER_TYPE_LABELS = {"company": _l("Company"), "person": _l("Person")}
REASON_LABELS = {
    "ELIGIBLE": _l("Eligible for destruction"),
    "ALREADY_DESTROYED": _l("Already destroyed"),
    "NOT_DECLARED": _l("Not yet filed"),
    "HELD": _l("On legal hold"),
    "UNSETTLED_CLAIM": _l("Backs an unsettled claim"),
    "NO_RULE": _l("No retention rule"),
    "PERMANENT": _l("Kept permanently"),
    "EVENT_MISSING": _l("Waiting for an event"),
    "PERIOD_RUNNING": _l("Retention period running"),
}
SKIP_LABELS = {
    "EXTENDED": _l("Retention extended at review"),
    "FACTS_MISSING": _l("Record no longer found"),
    "CLASS_CHANGED": _l("Class changed since the list was made"),
    "RULE_CHANGED": _l("Rule changed since the list was approved"),
    "EXECUTION_FAILED": _l("Cleared for destruction but not destroyed"),
}
BATCH_STATE_LABELS = {
    "draft": _l("Being prepared"),
    "under_review": _l("Under review"),
    "approved": _l("Approved, not executed"),
    "executed": _l("Executed"),
    "cancelled": _l("Cancelled"),
}
REVIEW_ACTION_LABELS = {"destroy": _l("Destroy"), "extend": _l("Extend")}
INSPECTION_STATE_LABELS = {
    "running": _l("Running"),
    "passed": _l("Passed"),
    "failed": _l("Problems found"),
    "error": _l("Could not run"),
    "interrupted": _l("Interrupted"),
}
INSPECTION_TRIGGER_LABELS = {"scheduled": _l("Scheduled"), "manual": _l("By hand")}
RETENTION_CLASS_LABELS = {
    "voucher": _l("Accounting vouchers"),
    "ledger": _l("Ledgers"),
    "asset_card": _l("Fixed-asset cards"),
    "report_periodic": _l("Monthly, quarterly and half-year reports"),
    "report_annual": _l("Annual financial reports"),
    "bank_statement": _l("Bank statements and reconciliations"),
    "tax_return": _l("Tax returns"),
    "transfer_register": _l("Archive transfer registers"),
    "register": _l("Custody and destruction registers, appraisal opinions"),
    "contract": _l("Contracts"),
    "invoice": _l("Invoices"),
    "personal": _l("Customer personal data"),
    "other": _l("Other"),
}
EVENT_LABELS = {
    "contract_end": _l("contract end"),
    "relationship_end": _l("end of the customer relationship"),
    "asset_scrapped": _l("asset scrapped"),
}
# How a document's text was obtained (``Document.extraction_method``).
EXTRACTION_METHOD_LABELS = {
    "text-layer": _l("The PDF's own text"),
    "ocr": _l("Text recognition (OCR)"),
    "mixed": _l("The PDF's own text and text recognition"),
}
# Codes kept as plain strings rather than enumerations, checked like them.
STRING_CODE_LABELS: Mapping[str, Mapping[str, Any]] = {
    "extraction_method": EXTRACTION_METHOD_LABELS,
}
# What search says of a hit: filed, its checklist state, or how far its reading got.
FILING_STATE_LABELS = {
    "declared": CHECKLIST_STATE_LABELS["filed"],
    **CHECKLIST_STATE_LABELS,
    **DOCUMENT_STATUS_LABELS,
}

ENUM_LABELS: Mapping[type[Enum], Mapping[str, Any]] = {
    DocumentStatus: DOCUMENT_STATUS_LABELS,
    ChecklistState: CHECKLIST_STATE_LABELS,
    Level: LEVEL_LABELS,
    Role: ROLE_LABELS,
    CustomerType: CUSTOMER_TYPE_LABELS,
    ReasonCode: REASON_LABELS,
    SkipReason: SKIP_LABELS,
    BatchState: BATCH_STATE_LABELS,
    ReviewAction: REVIEW_ACTION_LABELS,
    InspectionState: INSPECTION_STATE_LABELS,
    InspectionTrigger: INSPECTION_TRIGGER_LABELS,
}
# A skipped item carries either a decision's reason or a skip reason.
_SKIP_OR_REASON = {**REASON_LABELS, **SKIP_LABELS}


def _chinese() -> bool:
    locale = get_locale()
    return locale is None or locale.language == "zh"


def label(mapping: Mapping[str, Any], value: object) -> str:
    """``value`` (an enum member or its value) in words; an unknown value stays visible
    rather than vanish, and the page test flags it."""
    key = value.value if isinstance(value, Enum) else str(value)
    found = mapping.get(key)
    return str(found) if found is not None else key


def class_name(code: str | None) -> str:
    """A document class code as its name in the user's language: the names the catalogue
    holds (classes are data an administrator adds to), else the shipped ones."""
    names = _catalogue_names()
    found = names.get(code or "")
    if found is None:
        found = next(((s.name_zh, s.name_en) for s in DEFAULT_CLASSES if s.code == code), None)
    if found is None:
        return code or "—"
    return found[0] if _chinese() else found[1]


def _catalogue_names() -> dict[str, tuple[str, str]]:
    """Every class's (Chinese, English) names, read once per request."""
    if not has_request_context():
        return {}
    if "class_names" not in g:
        g.class_names = bootstrap.class_names(db_session())
    return g.class_names


def date_label(name: str) -> str:
    """A named date of a record (document date, filing date or a trigger event)."""
    dates = {"document_date": _("Document date"), "filing_date": _("Filing date")}
    found = dates.get(name) or EVENT_LABELS.get(name)
    return str(found) if found is not None else name


def period_label(period: object) -> str:
    """A retention period as the engine writes it (years, or ``permanent``)."""
    if period == "permanent" or period is None:
        return _("Permanent")
    return _("%(years)s years", years=period)


def skip_label(code: str) -> str:
    return label(_SKIP_OR_REASON, code)


def reason_text(entry: Mapping[str, Any]) -> str:
    """A retention decision's explanation from its data (the engine words it in English)."""
    reason = entry.get("reason")
    if reason == "ALREADY_DESTROYED":
        return _("Only the stub of this record remains.")
    if reason == "NOT_DECLARED":
        return _("The retention clock starts when the record is confirmed and filed.")
    if reason == "HELD":
        return _("On legal hold: %(holds)s.", holds=", ".join(entry.get("holds") or []))
    if reason == "UNSETTLED_CLAIM":
        return _("Backs an unsettled claim or debt; kept until it is settled.")
    if reason == "NO_RULE":
        return _(
            "No retention rule covers the class %(name)s.", name=class_name(entry.get("class"))
        )
    if reason == "PERMANENT":
        return _("Kept permanently under rule %(rule)s.", rule=entry.get("rule") or "—")
    if reason == "EVENT_MISSING":
        event = entry.get("missing_event") or ""
        return _(
            "The retention clock starts at the %(event)s, which is not recorded yet.",
            event=str(EVENT_LABELS.get(event, event)),
        )
    if reason == "PERIOD_RUNNING":
        return _(
            "Under rule %(rule)s; eligible on %(day)s.",
            rule=entry.get("rule") or "—",
            day=entry.get("eligible_on") or "—",
        )
    if reason == "ELIGIBLE":
        return _(
            "The retention period under rule %(rule)s has ended.", rule=entry.get("rule") or "—"
        )
    return label(SKIP_LABELS, reason or "")


def template_globals() -> dict[str, object]:
    """The dicts and helpers every template may use."""
    return {
        "status_labels": DOCUMENT_STATUS_LABELS,
        "level_labels": LEVEL_LABELS,
        "role_labels": ROLE_LABELS,
        "customer_type_labels": CUSTOMER_TYPE_LABELS,
        "reason_labels": REASON_LABELS,
        "batch_state_labels": BATCH_STATE_LABELS,
        "review_action_labels": REVIEW_ACTION_LABELS,
        "filing_state_labels": FILING_STATE_LABELS,
        "inspection_state_labels": INSPECTION_STATE_LABELS,
        "extraction_method_labels": EXTRACTION_METHOD_LABELS,
        "label": label,
        "class_name": class_name,
        "skip_label": skip_label,
        "date_label": date_label,
        "period_label": period_label,
        "reason_text": reason_text,
        "failure_text": failure_text,
    }
