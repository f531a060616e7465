"""Document pages: upload with live progress, the document page, downloads, retry."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from archive_app.domain.field_rules import live_specs
from archive_app.errors import UnknownDocumentClass, ValidationFailed
from archive_app.models import Document
from archive_app.permissions import Capability, may_edit_metadata, require
from archive_app.services import archives, bootstrap
from archive_app.services import documents as document_service
from archive_app.services.intake import IntakeItem, take_in
from archive_app.services.reading_checks import reading_warnings
from archive_app.web import metadata_form
from archive_app.web.checklist import document_panels
from archive_app.web.context import db_session, end_unit_of_work, services
from archive_app.web.downloads import attachment
from archive_app.web.intake_messages import failure_text, rejection_text

blueprint = Blueprint("documents", __name__)

# How the page names the engine that read a page of text.
ENGINE_NAMES = {"paddle": "PP-OCR", "tesseract": "Tesseract"}


@blueprint.app_context_processor
def _document_helpers() -> dict[str, object]:
    return {"engine_names": ENGINE_NAMES}


@blueprint.route("/archives/<number>/upload")
@login_required
def upload_page(number: str):
    require(current_user, Capability.FILE_DOCUMENTS)
    archive = archives.view_archive(db_session(), current_user, number)
    return render_template(
        "documents/upload.html", archive=archive, classes=bootstrap.list_classes(db_session())
    )


@blueprint.route("/archives/<number>/documents", methods=["POST"])
@login_required
def upload(number: str):
    """Multipart upload of one or more files (field ``files``; class in ``class``).
    Answers with one result per file."""
    require(current_user, Capability.FILE_DOCUMENTS)
    files: list[FileStorage] = request.files.getlist("files")
    if not files:
        raise ValidationFailed({"files": "choose at least one file"})
    class_code = request.form.get("class") or None
    actor_id = current_user.id
    end_unit_of_work()
    # Uploaded scans are customer content: only in the instance's private temporary folder.
    workdir = Path(tempfile.mkdtemp(prefix="upload-", dir=services().temp_folder))
    try:
        items = []
        for index, upload in enumerate(files):
            path = workdir / f"{index:05d}"
            upload.save(path)
            items.append(IntakeItem(path=path, filename=upload.filename or "unnamed"))
        results = take_in(services(), actor_id, number, items, default_class=class_code)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return jsonify(
        [
            {
                **result.as_dict(),
                "error": rejection_text(result.code, result.error, result.document)
                if result.error
                else None,
                "id": result.document_id,
                "code": result.code,
                "url": url_for("documents.detail", number=result.document)
                if result.document
                else None,
            }
            for result in results
        ]
    )


@blueprint.route("/documents/status")
@login_required
def status():
    ids = [int(part) for part in request.args.get("ids", "").split(",") if part.strip().isdigit()]
    rows = document_service.status_of(db_session(), current_user, ids)
    return jsonify(
        [
            {
                "id": row.id,
                "document": row.number,
                "status": row.status.value,
                "done": row.progress_done,
                "total": row.progress_total,
                "error": failure_text(row.failure_reason) or None,
            }
            for row in rows
        ]
    )


def _render_detail(
    number: str,
    *,
    submitted: dict[str, str] | None = None,
    submitted_title: str | None = None,
    errors: dict[str, str] | None = None,
    record_view: bool = True,
) -> str:
    session = db_session()
    if record_view:
        document = document_service.view_document(session, current_user, number)
    else:
        document = document_service.get_visible(session, current_user, number)
    reading = document_service.read_reading(services(), session, current_user, number)
    classes = bootstrap.list_classes(session)
    return render_template(
        "documents/detail.html",
        document=document,
        pages=reading.pages,
        metadata=metadata_form.build(
            document,
            reading.suggestions,
            classes,
            str(get_locale() or "zh_CN"),
            submitted=submitted,
            submitted_title=submitted_title,
            errors=errors,
        ),
        warnings=reading_warnings(services(), document),
        classes=classes,
        **_with_edit_right(document_panels(document, current_user), document),
    )


@blueprint.route("/documents/<number>")
@login_required
def detail(number: str):
    return _render_detail(number)


@blueprint.route("/documents/<number>", methods=["POST"])
@login_required
def edit(number: str):
    """The metadata form: save what was typed, and accept one suggestion (``accept`` names
    it) or all of them (``accept=*``) on the way. The form shows the fields of the class
    and flags it was drawn with (``shown_class``): a changed class keeps what both share."""
    session = db_session()
    form = request.form
    values = {
        # A checkbox sends its hidden "no" first and "yes" after it when ticked.
        key[len("field:") :]: form.getlist(key)[-1]
        for key in form
        if key.startswith("field:")
    }
    chosen_class = form.get("class") or None
    shown_class = form.get("shown_class") or None
    accept = form.get("accept", "")
    before = document_service.get_visible(session, current_user, number)
    before_class = before.document_class.code
    before_fields = set(before.fields or {})
    try:
        document = document_service.edit_document(
            session,
            current_user,
            number,
            class_code=chosen_class if chosen_class != shown_class else None,
            title=form.get("title"),
            values=values,
            accept_suggestions=accept == metadata_form.ACCEPT_ALL,
            accept=[accept] if accept and accept != metadata_form.ACCEPT_ALL else [],
            drop_inapplicable=True,
            container=services(),
        )
    except (ValidationFailed, UnknownDocumentClass) as error:
        session.rollback()
        errors = (
            error.problems
            if isinstance(error, ValidationFailed)
            else {"class": _("There is no such class.")}
        )
        return _render_detail(
            number,
            submitted=values,
            submitted_title=form.get("title"),
            errors=errors,
            record_view=False,
        ), 422
    new_class = document.document_class
    if new_class.code != before_class:
        language = str(get_locale() or "zh_CN")
        kept = [
            spec["label_zh"] if language.startswith("zh") else spec["label_en"]
            for spec in live_specs(new_class.required_fields)
            if spec["name"] in before_fields and spec["name"] in document.fields
        ]
        flash(
            _(
                "Class changed to %(name)s. Kept: %(kept)s. Fill in the fields marked missing.",
                name=new_class.name(language),
                kept=", ".join(kept) or _("nothing"),
            ),
            "success",
        )
    elif accept:
        flash(_("Suggestions accepted and saved."), "success")
    else:
        flash(_("Changes saved."), "success")
    return redirect(url_for("documents.detail", number=number))


@blueprint.route("/documents/<number>/retry", methods=["POST"])
@login_required
def retry(number: str):
    document = document_service.retry_document(services(), db_session(), current_user, number)
    document_id = document.id
    end_unit_of_work()
    services().enqueue_processing(document_id)
    flash(_("Document %(number)s is queued again.", number=number), "info")
    return redirect(url_for("documents.detail", number=number))


@blueprint.route("/documents/<number>/<kind>")
@login_required
def download(number: str, kind: str):
    handle = document_service.prepare_export(db_session(), current_user, number, kind)
    end_unit_of_work()  # the download is audited before the first byte leaves
    response = Response(
        document_service.stream_export(services(), handle), mimetype=handle.mime_type
    )
    response.headers["Content-Disposition"] = attachment(handle.filename, inline=kind == "pdf")
    if handle.size is not None:
        response.headers["Content-Length"] = str(handle.size)
    return response


def _with_edit_right(panels: dict[str, object], document: Document) -> dict[str, object]:
    """The panels, and whether the metadata form may be offered: the user's right, and a
    record that can still change."""
    return {
        **panels,
        "can_edit": may_edit_metadata(current_user, document) and not panels["frozen"],
    }
