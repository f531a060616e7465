"""Small helpers available in every template: formatting and navigation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import Flask
from flask_babel import get_locale
from flask_login import current_user

from archive_app.permissions import Capability, allowed
from archive_app.web import labels
from archive_app.web.labels import EVENT_LABELS, RETENTION_CLASS_LABELS

LEVEL_BADGES = {
    "public": "text-bg-success",
    "internal": "text-bg-secondary",
    "confidential": "text-bg-warning",
    "secret": "text-bg-danger",
}


def trigger_label(trigger: object) -> str:
    """A retention trigger in the user's language (the engine describes it in English)."""
    from flask_babel import gettext

    if isinstance(trigger, Mapping):  # a rule as a service describes it in a dict
        event, fiscal = trigger.get("event_name"), trigger.get("fiscal", False)
    else:
        event, fiscal = getattr(trigger, "event_name", None), getattr(trigger, "fiscal", False)
    base = gettext("the document date") if event is None else str(EVENT_LABELS.get(event, event))
    if fiscal:
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
            **labels.template_globals(),
            "retention_class_labels": RETENTION_CLASS_LABELS,
            "trigger_label": trigger_label,
        }
