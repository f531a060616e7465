"""Small helpers available in every template: formatting and navigation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from archive_app.permissions import Capability, allowed

LEVEL_BADGES = {
    "public": "text-bg-success",
    "internal": "text-bg-secondary",
    "confidential": "text-bg-warning",
    "secret": "text-bg-danger",
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
DOCUMENT_STATUS_LABELS = {
    "queued": _l("Queued"),
    "processing": _l("Processing"),
    "ready": _l("Ready"),
    "failed": _l("Failed"),
}


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


def trigger_label(trigger: object) -> str:
    """A retention trigger in the user's language (the engine describes it in English)."""
    from flask_babel import gettext

    event = getattr(trigger, "event_name", None)
    base = gettext("the document date") if event is None else str(EVENT_LABELS.get(event, event))
    if getattr(trigger, "fiscal", False):
        return gettext("from the end of the fiscal year of %(base)s", base=base)
    return gettext("from the day after %(base)s", base=base)


def _language_code() -> str:
    """Our code for the active locale (Babel parses zh-CN as zh_Hans_CN)."""
    locale = get_locale()
    return "zh_CN" if locale is None or locale.language == "zh" else "en"


def register_template_helpers(app: Flask, language_names: Mapping[str, str]) -> None:
    @app.template_filter("date")
    def _date(value: datetime | None) -> str:
        return value.strftime("%Y-%m-%d") if value else ""

    @app.template_filter("datetime")
    def _datetime(value: datetime | None) -> str:
        return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""

    @app.context_processor
    def _globals() -> dict[str, object]:
        return {
            "can": lambda name: (
                current_user.is_authenticated and allowed(current_user, Capability[name])
            ),
            "current_language": _language_code(),
            "language_names": language_names,
            "level_badges": LEVEL_BADGES,
            "level_labels": LEVEL_LABELS,
            "role_labels": ROLE_LABELS,
            "customer_type_labels": CUSTOMER_TYPE_LABELS,
            "status_labels": DOCUMENT_STATUS_LABELS,
            "retention_class_labels": RETENTION_CLASS_LABELS,
            "trigger_label": trigger_label,
        }
