"""Retention pages (保管期限): rules, holds, the plan on any day, destruction lists with their
review, approvals and execution, certificates, erasure requests. Each route translates HTTP
into one retention service call; refusals are typed errors shown as flash messages.
"""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from archive_app.errors import AppError, ValidationFailed
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, allowed
from archive_app.services import notifications
from archive_app.services.retention import (
    batches,
    certificate_files,
    destruction,
    erasure,
    holds,
    planning,
    schedule,
)
from archive_app.services.retention.certificate_pdf import certificate_pdf
from archive_app.web.context import db_session, services
from archive_app.web.error_messages import explain
from archive_app.web.errors import record_refusal

blueprint = Blueprint("retention", __name__, url_prefix="/retention")


def install(app: Flask) -> None:
    app.register_blueprint(blueprint)

    @app.context_processor
    def _retention_helpers() -> dict[str, object]:
        def may_retention() -> bool:
            return current_user.is_authenticated and allowed(
                current_user, Capability.READ_RETENTION
            )

        return {"may_retention": may_retention}


def _day(value: str | None) -> date:
    if not value:
        return utcnow().date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({"as_of": f"{value!r} is not a date (YYYY-MM-DD)"}) from None


def _refused(error: AppError, endpoint: str, **values: str):
    db_session().rollback()
    record_refusal(error)
    flash(explain(error, error.http_status), "danger")
    return redirect(url_for(endpoint, **values))


@blueprint.route("/")
@login_required
def index():
    session = db_session()
    views = schedule.list_rules(session, current_user)
    # Notes are for compliance, auditors and admins, each kind for some of them; a reader
    # of retention always reads at least the appraisal's.
    notes = notifications.list_views(session, current_user, limit=10)
    return render_template("retention/index.html", views=views, notes=notes)


@blueprint.route("/rules/<code>", methods=["POST"])
@login_required
def change_rule(code: str):
    try:
        rule = schedule.change_rule(
            db_session(),
            current_user,
            code,
            request.form.get("period", ""),
            request.form.get("reason", ""),
        )
    except AppError as error:
        return _refused(error, "retention.index")
    flash(
        _("Rule %(code)s is now version %(version)s.", code=code, version=rule.version), "success"
    )
    return redirect(url_for("retention.index"))


@blueprint.route("/notifications/read", methods=["POST"])
@login_required
def read_notifications():
    notifications.mark_read(db_session(), current_user)
    return redirect(url_for("retention.index"))


@blueprint.route("/holds", methods=["GET", "POST"])
@login_required
def holds_page():
    session = db_session()
    if request.method == "POST":
        form = request.form
        try:
            holds.create_hold(
                session,
                current_user,
                form.get("name", ""),
                form.get("reason", ""),
                archives=form.get("archives", "").split(),
                documents=form.get("documents", "").split(),
            )
        except AppError as error:
            return _refused(error, "retention.holds_page")
        flash(_("Hold %(name)s placed.", name=form.get("name", "")), "success")
        return redirect(url_for("retention.holds_page"))
    listing = holds.list_holds(session, current_user)
    return render_template(
        "retention/holds.html",
        holds=listing.holds,
        hidden=listing.hidden,
        labels={h.id: holds.hold_target_labels(h) for h in listing.holds},
    )


@blueprint.route("/holds/<int:hold_id>/release", methods=["POST"])
@login_required
def release_hold(hold_id: int):
    from archive_app.models import LegalHold

    hold = db_session().get(LegalHold, hold_id)
    name = hold.name if hold is not None else str(hold_id)
    try:
        holds.release_hold(db_session(), current_user, name, request.form.get("reason", ""))
    except AppError as error:
        return _refused(error, "retention.holds_page")
    flash(_("Hold %(name)s released.", name=name), "success")
    return redirect(url_for("retention.holds_page"))


@blueprint.route("/plan")
@login_required
def plan_page():
    as_of = _day(request.args.get("as_of"))
    report = planning.make_plan(db_session(), current_user, as_of)
    return render_template("retention/plan.html", plan=report.as_dict(), as_of=as_of)


@blueprint.route("/batches", methods=["GET", "POST"])
@login_required
def batches_page():
    session = db_session()
    if request.method == "POST":
        try:
            row, _batch = batches.create(
                session,
                current_user,
                _day(request.form.get("as_of")),
                required_approvals=services().settings.retention_approvals,
            )
        except AppError as error:
            return _refused(error, "retention.batches_page")
        flash(_("Destruction list %(number)s created.", number=row.number), "success")
        return redirect(url_for("retention.batch_page", number=row.number))
    listing = batches.list_batches(session, current_user)
    return render_template(
        "retention/batches.html",
        rows=listing.rows,
        visible_items=listing.visible_items,
        hidden=listing.hidden,
    )


@blueprint.route("/batches/<number>")
@login_required
def batch_page(number: str):
    shown = batches.view(db_session(), current_user, number)
    data = batches.batch_document(shown.row, shown.batch, shown.visible)
    dry_run = request.args.get("dry_run") == "1"
    report = None
    if dry_run and shown.batch.state.value == "approved":
        try:
            report = destruction.run_batch(
                services(), db_session(), current_user, number, dry_run=True
            ).as_dict()
        except AppError as error:
            flash(explain(error, error.http_status), "danger")
    return render_template("retention/batch.html", batch=data, dry_run=report)


@blueprint.route("/batches/<number>/<action>", methods=["POST"])
@login_required
def batch_action(number: str, action: str):
    session = db_session()
    form = request.form
    try:
        if action == "review":
            documents = form.getlist("documents")
            batches.review(
                session,
                current_user,
                number,
                documents or None,
                form.get("decision", "destroy"),
                reason=form.get("reason", ""),
                review_on=_day(form["review_on"]) if form.get("review_on") else None,
            )
            flash(_("Review recorded."), "success")
        elif action == "approve":
            batches.approve(session, current_user, number)
            flash(_("Approval recorded."), "success")
        elif action == "cancel":
            batches.cancel(session, current_user, number, form.get("reason", ""))
            flash(_("Destruction list cancelled."), "info")
        elif action == "run":
            report = destruction.run_batch(services(), session, current_user, number)
            flash(
                ngettext(
                    "%(num)d record destroyed, %(skipped)s skipped. Certificate %(cert)s.",
                    "%(num)d records destroyed, %(skipped)s skipped. Certificate %(cert)s.",
                    len(report.destroyed),
                    skipped=len(report.skipped),
                    cert=report.certificate_id,
                ),
                "success",
            )
        else:
            return _refused(
                ValidationFailed({"action": action}), "retention.batch_page", number=number
            )
    except AppError as error:
        return _refused(error, "retention.batch_page", number=number)
    return redirect(url_for("retention.batch_page", number=number))


@blueprint.route("/batches/<number>/certificate")
@login_required
def certificate_page(number: str):
    row = certificate_files.certificate_for_batch(db_session(), current_user, number)
    data = row.signed.encode("utf-8")
    check = certificate_files.verify_bytes(
        data, certificate_files.instance_public_key(services().settings)
    )
    if request.args.get("format") == "json":
        response = Response(data, mimetype="application/json")
        response.headers["Content-Disposition"] = f'attachment; filename="{row.file_name}"'
        return response
    if request.args.get("format") == "pdf":
        pdf = certificate_pdf(json.loads(data)["certificate"])
        response = Response(pdf, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="{row.certificate_id}.pdf"'
        return response
    return render_template(
        "retention/certificate.html",
        row=row,
        certificate=json.loads(data)["certificate"],
        check=check,
    )


@blueprint.route("/erasure", methods=["GET", "POST"])
@login_required
def erasure_page():
    session = db_session()
    if request.method == "POST":
        try:
            req, _batch = erasure.request_erasure(
                session,
                current_user,
                request.form.get("archive", ""),
                note=request.form.get("note", ""),
                required_approvals=services().settings.retention_approvals,
            )
        except AppError as error:
            return _refused(error, "retention.erasure_page")
        flash(_("Erasure request %(number)s recorded.", number=req.number), "success")
        return redirect(url_for("retention.erasure_report", number=req.number))
    return render_template(
        "retention/erasure.html", rows=erasure.list_requests(session, current_user)
    )


@blueprint.route("/erasure/<number>")
@login_required
def erasure_report(number: str):
    data = erasure.erasure_report(db_session(), current_user, number)
    if request.args.get("format") == "json":
        return Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    return render_template("retention/erasure_report.html", report=data)
