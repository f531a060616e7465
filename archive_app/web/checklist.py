"""Filing checklist pages: the archive's checklist section, the review queue with bulk
confirmation, submit / confirm / reject, paper locations, new versions, and the
printable checklist and cover sheet (HTML with print CSS, and PDF)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from archive_app.errors import NotFound, ValidationFailed
from archive_app.models import ChecklistState, Document, User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, allowed
from archive_app.services import checklist, locations, printing, review_desk, versions
from archive_app.services import documents as document_service
from archive_app.services.checklist import ChecklistIncomplete, Problem
from archive_app.services.reading_checks import reading_warnings
from archive_app.services.retention.state import retention_state
from archive_app.web.context import db_session, end_unit_of_work, services
from archive_app.web.labels import CHECKLIST_STATE_LABELS as STATE_LABELS

blueprint = Blueprint("checklist", __name__)

STATE_BADGES = {"draft": "secondary", "awaiting_review": "warning", "filed": "success"}
# The service's messages are English; these are the ones a user sees on screen.
PROBLEM_MESSAGES = {
    "is missing": _l("is missing"),
    "text extraction has not finished yet": _l("text extraction has not finished yet"),
    "text extraction failed; retry it first": _l("text extraction failed; retry it first"),
    "must be a date like 2026-03-05": _l("must be a date like 2026-03-05"),
    "must be an amount like 12500.00": _l("must be an amount like 12500.00"),
    "must be 10 or 12 digits": _l("must be 10 or 12 digits"),
    "must be 8 or 20 digits": _l("must be 8 or 20 digits"),
    "must be a year (2026) or a month (2026-03)": _l("must be a year (2026) or a month (2026-03)"),
    "must be a three-letter currency code like USD": _l(
        "must be a three-letter currency code like USD"
    ),
    "must be yes or no": _l("must be yes or no"),
    "is not an invoice code; an invoice from outside mainland China has none": _l(
        "is not an invoice code; an invoice from outside mainland China has none"
    ),
    "does not apply to this document": _l("does not apply to this document"),
    "is a retired field": _l("is a retired field"),
    "has no suggestion to accept": _l("has no suggestion to accept"),
    "is longer than 500 characters": _l("is longer than 500 characters"),
    "is not one of the field's choices": _l("is not one of the field's choices"),
    "must be an 18-character unified social credit code": _l(
        "must be an 18-character unified social credit code"
    ),
    "has a wrong check character (GB 32100)": _l("has a wrong check character (GB 32100)"),
    "must be a number like 42 or 3.5": _l("must be a number like 42 or 3.5"),
    "must be a number below 10^15": _l("must be a number below 10^15"),
}


def problem_text(problem: Problem, language: str) -> str:
    if problem.code == "status":
        label = _("Processing")
    else:
        label = problem.label_zh if language.startswith("zh") else problem.label_en
    if problem.code == "order":
        message = _("must be after the sign date %(date)s", date=problem.message.rsplit(" ", 1)[-1])
    else:
        message = str(PROBLEM_MESSAGES.get(problem.message, problem.message))
    return f"{label or problem.field}: {message}"


@blueprint.app_context_processor
def _checklist_helpers() -> dict[str, Any]:
    return {
        "checklist_state_labels": STATE_LABELS,
        "checklist_state_badges": STATE_BADGES,
        "problem_text": problem_text,
        "may_review": lambda: (
            current_user.is_authenticated and allowed(current_user, Capability.REVIEW_CHECKLIST)
        ),
    }


def _back(default: str) -> Any:
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return redirect(target)
    return redirect(default)


def _flash_incomplete(error: ChecklistIncomplete) -> None:
    from flask_babel import get_locale

    language = str(get_locale() or "zh_CN")
    items = "; ".join(problem_text(problem, language) for problem in error.problems)
    flash(
        _(
            "%(number)s cannot go to review yet. Missing or wrong: %(items)s",
            number=error.document,
            items=items,
        ),
        "danger",
    )


# ---------------------------------------------------------------- archive checklist


@blueprint.route("/archives/<number>/checklist")
@login_required
def section(number: str):
    filters = {
        "location": request.args.get("location", ""),
        "unlocated": request.args.get("unlocated") == "1",
        "state": request.args.get("state") or None,
    }
    archive, lines = checklist.list_lines(db_session(), current_user, number, **filters)
    for view in lines:
        view.warnings = reading_warnings(services(), view.document)
    template = (
        "checklist/_section.html" if request.headers.get("HX-Request") else "checklist/page.html"
    )
    return render_template(
        template,
        archive=archive,
        lines=lines,
        filters=filters,
        can_file=allowed(current_user, Capability.FILE_DOCUMENTS),
        can_review=allowed(current_user, Capability.REVIEW_CHECKLIST),
        own=lambda line: checklist.is_own_line(line, current_user),
    )


@blueprint.route("/documents/<number>/checklist/submit", methods=["POST"])
@login_required
def submit(number: str):
    try:
        checklist.submit(db_session(), current_user, number)
    except ChecklistIncomplete as error:
        db_session().rollback()
        _flash_incomplete(error)
    else:
        flash(_("%(number)s is waiting for a second person's review.", number=number), "success")
    return _back(url_for("documents.detail", number=number))


@blueprint.route("/documents/<number>/checklist/confirm", methods=["POST"])
@login_required
def confirm(number: str):
    try:
        checklist.confirm(db_session(), current_user, number)
    except ChecklistIncomplete as error:
        db_session().rollback()
        _flash_incomplete(error)
    else:
        flash(_("%(number)s is confirmed and filed.", number=number), "success")
    return _back(url_for("documents.detail", number=number))


@blueprint.route("/documents/<number>/checklist/reject", methods=["POST"])
@login_required
def reject(number: str):
    try:
        checklist.reject(db_session(), current_user, number, request.form.get("reason", ""))
    except ValidationFailed:
        db_session().rollback()
        flash(_("Say why the line is rejected, so the archivist knows what to fix."), "danger")
    else:
        flash(_("%(number)s was sent back to the archivist.", number=number), "info")
    return _back(url_for("documents.detail", number=number))


# ---------------------------------------------------------------- review queue


@blueprint.route("/review")
@login_required
def queue():
    lines = checklist.review_queue(db_session(), current_user)
    return render_template(
        "checklist/queue.html",
        lines=lines,
        own=lambda line: checklist.is_own_line(line, current_user),
        opened=review_desk.opened_numbers(db_session(), current_user, lines),
    )


@blueprint.route("/review/confirm", methods=["POST"])
@login_required
def confirm_selected():
    numbers = request.form.getlist("documents")
    if not numbers:
        flash(_("Tick the lines you want to confirm."), "warning")
        return redirect(url_for("checklist.queue"))
    review = review_desk.confirm_opened(db_session(), current_user, numbers)
    outcome = review.outcome
    for number in review.not_opened:
        flash(
            _("Not confirmed: %(number)s (open it beside its scan first)", number=number),
            "danger",
        )
    if outcome.confirmed:
        flash(
            _("Confirmed and filed: %(numbers)s", numbers=", ".join(outcome.confirmed)),
            "success",
        )
    for number, reason in outcome.refused.items():
        flash(_("Not confirmed: %(number)s (%(reason)s)", number=number, reason=reason), "danger")
    return redirect(url_for("checklist.queue"))


# ---------------------------------------------------------------- locations and versions


@blueprint.route("/documents/<number>/location", methods=["POST"])
@login_required
def set_location(number: str):
    form = request.form
    try:
        move = locations.set_location(
            db_session(),
            current_user,
            number,
            room=form.get("room", ""),
            shelf=form.get("shelf", ""),
            box=form.get("box", ""),
            position=form.get("position", ""),
            note=form.get("note", ""),
        )
    except ValidationFailed as error:
        db_session().rollback()
        flash("; ".join(f"{k}: {v}" for k, v in error.problems.items()), "danger")
    else:
        if move is None:
            flash(_("The paper location is unchanged."), "info")
        else:
            flash(_("Paper location saved."), "success")
    return _back(url_for("documents.detail", number=number))


@blueprint.route("/documents/<number>/versions", methods=["POST"])
@login_required
def add_version(number: str):
    upload: FileStorage | None = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed({"file": "choose the corrected scan"})
    actor_id = current_user.id
    reason = request.form.get("reason", "")
    end_unit_of_work()
    workdir = Path(tempfile.mkdtemp(prefix="version-", dir=services().temp_folder))
    try:
        path = workdir / "upload"
        upload.save(path)
        version = versions.add_version(
            services(), actor_id, number, path, upload.filename, reason=reason
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    flash(
        _(
            "Version %(version)s of %(number)s is stored and queued for text extraction; "
            "its checklist line needs review again.",
            version=version,
            number=number,
        ),
        "success",
    )
    return redirect(url_for("documents.detail", number=number))


@blueprint.route("/documents/<number>/versions/<int:version>/<kind>")
@login_required
def download_version(number: str, version: int, kind: str):
    handle = versions.prepare_version_export(db_session(), current_user, number, version, kind)
    end_unit_of_work()
    response = Response(
        document_service.stream_export(services(), handle), mimetype=handle.mime_type
    )
    from urllib.parse import quote

    ascii_name = handle.filename.encode("ascii", "replace").decode().replace('"', "_")
    disposition = "inline" if kind == "pdf" else "attachment"
    response.headers["Content-Disposition"] = (
        f'{disposition}; filename="{ascii_name.replace("?", "_")}"; '
        f"filename*=UTF-8''{quote(handle.filename)}"
    )
    return response


def frozen_state(document: Document, retention: dict[str, Any]) -> str | None:
    """Why the record's content and metadata cannot change now (the services refuse it):
    ``destroyed``, ``being_destroyed`` or ``held`` (a legal hold or an unsettled claim);
    None when they can. The page offers no form that would only be refused."""
    if document.is_destroyed:
        return "destroyed"
    if document.is_being_destroyed:
        return "being_destroyed"
    if retention["holds"] or retention["unsettled_claim"]:
        return "held"
    return None


def document_panels(document: Document, user: User) -> dict[str, Any]:
    """What the document page shows about its retention, checklist, location and versions."""
    session = db_session()
    retention = retention_state(session, document)
    frozen = frozen_state(document, retention)
    try:
        line = checklist.line_for(session, user, document.number)
    except NotFound:
        # Rows made outside intake (imports by other tools) have no line: no panels.
        return {"retention": retention, "frozen": frozen}
    return {
        "retention": retention,
        "frozen": frozen,
        "line": line,
        "line_problems": checklist.check_document(document)
        if line.state != ChecklistState.FILED
        else [],
        "moves": locations.history(session, user, document.number),
        "versions": versions.list_versions(session, user, document.number),
        "can_review": allowed(user, Capability.REVIEW_CHECKLIST),
        "own_line": checklist.is_own_line(line, user),
        "can_file": allowed(user, Capability.FILE_DOCUMENTS),
    }


# ---------------------------------------------------------------- printing


@blueprint.route("/archives/<number>/checklist/print")
@login_required
def print_checklist(number: str):
    archive, lines = checklist.for_print(db_session(), current_user, number, "checklist")
    return render_template(
        "checklist/print.html",
        archive=archive,
        lines=lines,
        printed_at=utcnow(),
        level_names=printing.LEVEL_NAMES,
        state_names=printing.STATE_NAMES,
    )


@blueprint.route("/archives/<number>/checklist.pdf")
@login_required
def checklist_pdf(number: str):
    archive, lines = checklist.for_print(db_session(), current_user, number, "checklist")
    data = printing.checklist_pdf(archive, lines, printed_by=current_user.username)
    return _pdf_response(data, f"{archive.number}-checklist.pdf")


@blueprint.route("/archives/<number>/cover")
@login_required
def print_cover(number: str):
    archive, lines = checklist.for_print(db_session(), current_user, number, "cover")
    return render_template(
        "checklist/cover.html",
        archive=archive,
        documents=len(lines),
        filed=sum(1 for line in lines if line.state == ChecklistState.FILED),
        level_names=printing.LEVEL_NAMES,
    )


@blueprint.route("/archives/<number>/cover.pdf")
@login_required
def cover_pdf(number: str):
    archive, lines = checklist.for_print(db_session(), current_user, number, "cover")
    data = printing.cover_pdf(
        archive,
        documents=len(lines),
        filed=sum(1 for line in lines if line.state == ChecklistState.FILED),
    )
    return _pdf_response(data, f"{archive.number}-cover.pdf")


def _pdf_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
