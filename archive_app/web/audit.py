"""The audit trail for auditors, compliance and admins: ``/audit`` (filtered, paged, newest
first) and ``/audit/export`` (the filtered view as CSV or JSON Lines).

Both call :mod:`archive_app.services.audit_query`; this module only turns query-string
arguments into an :class:`AuditFilter` and the outcome into HTML or a download. Anyone
else gets 403 (recorded as a refusal). Filters that cannot be read are shown beside the
form with status 422.
"""

from __future__ import annotations

import tempfile

from flask import Blueprint, render_template, request, send_file
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from archive_app.errors import ValidationFailed
from archive_app.models.audit import OUTCOMES
from archive_app.models.base import utcnow
from archive_app.services import audit_query
from archive_app.services.audit_export import FORMATS
from archive_app.services.audit_query import AuditFilter
from archive_app.web.audit_labels import action_label
from archive_app.web.context import db_session, services

blueprint = Blueprint("audit", __name__, url_prefix="/audit")

_FILTERS = ("actor", "action", "object_type", "object_id", "outcome", "since", "until")
OBJECT_LABELS = {
    "archive": _l("Archive"),
    "document": _l("Document"),
    "disposition_batch": _l("Destruction list"),
    "user": _l("User"),
}
OUTCOME_LABELS = {"ok": _l("Done"), "refused": _l("Refused"), "failed": _l("Failed")}
OUTCOME_BADGES = {"ok": "text-bg-success", "refused": "text-bg-danger", "failed": "text-bg-warning"}
_HINTS = {
    "since": _l("Enter a date like 2026-03-05; the end date may not be before the start."),
    "until": _l("Enter a date like 2026-03-05; the end date may not be before the start."),
    "outcome": _l("Choose done, refused or failed."),
    "limit": _l("Show between 1 and 1000 entries a page."),
}


def _args() -> dict[str, str]:
    return {name: request.args.get(name, "").strip() for name in _FILTERS}


def _filters(args: dict[str, str]) -> AuditFilter:
    return AuditFilter.parse(**args)


@blueprint.route("")
@login_required
def page():
    audit_query.require_reader(current_user)
    args = _args()
    problems: dict[str, str] = {}
    listing = None
    status = 200
    try:
        filters = _filters(args)
        limit = audit_query.check_limit(request.args.get("limit"))
        before = request.args.get("before", type=int)
        listing = audit_query.list_entries(
            db_session(), current_user, filters, before=before, limit=limit
        )
    except ValidationFailed as failure:
        problems = {name: str(_HINTS.get(name, text)) for name, text in failure.problems.items()}
        status = failure.http_status
    return render_template(
        "audit/list.html",
        args=args,
        listing=listing,
        problems=problems,
        filters_set={name: value for name, value in args.items() if value},
        actions=audit_query.distinct_actions(db_session(), current_user),
        outcomes=OUTCOMES,
        formats=FORMATS,
        object_labels=OBJECT_LABELS,
        outcome_labels=OUTCOME_LABELS,
        outcome_badges=OUTCOME_BADGES,
        action_label=action_label,
    ), status


@blueprint.route("/export")
@login_required
def export():
    audit_query.require_reader(current_user)
    fmt = request.args.get("format", "jsonl")
    if fmt not in FORMATS:
        raise ValidationFailed({"format": "must be csv or jsonl"})
    filters = _filters(_args())
    # Spooled into the instance's private temporary folder: the trail names customers. The
    # response closes (and so deletes) it once sent.
    spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
        max_size=1024 * 1024, dir=services().temp_folder
    )
    audit_query.export_entries(db_session(), current_user, filters, fmt, spool)
    spool.seek(0)
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return send_file(
        spool,
        mimetype="text/csv" if fmt == "csv" else "application/x-ndjson",
        as_attachment=True,
        download_name=f"audit-{stamp}.{fmt}",
    )
