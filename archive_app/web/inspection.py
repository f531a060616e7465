"""The inspection page (``/inspection``) for compliance, auditors and admins: the latest run
of the periodic inspection with what it found, and the trend of the last runs.

Calls :func:`archive_app.services.inspection_runs.history` only; anyone else gets 403
(recorded as a refusal). Runs are started by the worker's schedule and by ``archive
verify``, not from this page: a full inspection decrypts the whole store, far longer than a
request may take.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from archive_app.services import inspection_runs
from archive_app.web.context import db_session, services
from archive_app.web.labels import INSPECTION_STATE_LABELS as STATE_LABELS
from archive_app.web.labels import INSPECTION_TRIGGER_LABELS as TRIGGER_LABELS

blueprint = Blueprint("inspection", __name__, url_prefix="/inspection")

PROBLEM_LABELS = {
    "missing": _l("Missing object"),
    "damaged": _l("Damaged object"),
    "checksum_mismatch": _l("Checksum differs"),
    "unreferenced": _l("Object nothing references"),
    "checklist": _l("Record and storage disagree"),
    "index_missing": _l("Missing from the search index"),
    "index_stale": _l("Stale search index entry"),
    "stuck": _l("Stuck in processing"),
}
KIND_LABELS = {
    "original": _l("Original"),
    "text": _l("Extracted text"),
    "rendition": _l("Searchable PDF"),
}
STATE_BADGES = {
    "running": "text-bg-info",
    "passed": "text-bg-success",
    "failed": "text-bg-danger",
    "error": "text-bg-warning",
    "interrupted": "text-bg-secondary",
}


@blueprint.route("")
@login_required
def page():
    runs = inspection_runs.history(db_session(), current_user)
    return render_template(
        "inspection/page.html",
        latest=runs[0] if runs else None,
        runs=runs,
        schedule=services().settings.inspection_schedule,
        problem_labels=PROBLEM_LABELS,
        kind_labels=KIND_LABELS,
        state_labels=STATE_LABELS,
        state_badges=STATE_BADGES,
        trigger_labels=TRIGGER_LABELS,
    )
