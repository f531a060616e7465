"""The dashboard (``/dashboard``), where a login lands and ``/`` leads.

Calls :func:`archive_app.services.dashboard.figures` only and renders what it returns:
each card the user's role may see, its chart (drawn in the browser by the vendored
Chart.js from the JSON the page carries) and the same figures as a table. The labels of
the charts are translated here, so the script draws words, never codes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from archive_app.services import dashboard
from archive_app.web.context import db_session
from archive_app.web.inspection import STATE_BADGES as INSPECTION_BADGES
from archive_app.web.labels import (
    BATCH_STATE_LABELS,
    DOCUMENT_STATUS_LABELS,
)
from archive_app.web.labels import INSPECTION_STATE_LABELS as INSPECTION_LABELS

blueprint = Blueprint("dashboard", __name__)


@blueprint.route("/")
@login_required
def index():
    return redirect(url_for("dashboard.page"))


@blueprint.route("/dashboard")
@login_required
def page():
    figures = dashboard.figures(db_session(), current_user)
    return render_template(
        "dashboard/page.html",
        figures=figures,
        charts=_charts(figures),
        class_name=_class_name,
        batch_state_labels=BATCH_STATE_LABELS,
        inspection_labels=INSPECTION_LABELS,
        inspection_badges=INSPECTION_BADGES,
    )


def _class_name(row: dashboard.ClassRow) -> str:
    locale = get_locale()
    return row.name_zh if locale is None or locale.language == "zh" else row.name_en


def _charts(figures: dashboard.Dashboard) -> dict[str, dict[str, Any]]:
    """What each chart draws: labels and datasets, in the user's language."""
    charts: dict[str, dict[str, Any]] = {}
    if figures.filed is not None:
        charts["filed"] = {
            "type": "bar",
            "stacked": True,
            "labels": figures.filed.months,
            "datasets": [
                {"label": _class_name(row), "data": row.counts} for row in figures.filed.classes
            ],
        }
    if figures.processing is not None:
        charts["processing"] = {
            "type": "bar",
            "labels": [str(DOCUMENT_STATUS_LABELS[s]) for s in figures.processing],
            "datasets": [{"label": _("Documents"), "data": list(figures.processing.values())}],
        }
    if figures.appraisal is not None:
        charts["appraisal"] = {
            "type": "bar",
            "labels": [_("Due now"), *(str(year) for year, _n in figures.appraisal.by_year)],
            "datasets": [
                {
                    "label": _("Records"),
                    "data": [figures.appraisal.due_now]
                    + [n for _year, n in figures.appraisal.by_year],
                }
            ],
        }
    return charts
