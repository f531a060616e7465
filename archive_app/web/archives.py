"""Customer archive pages: list with search-as-you-type, create, view, edit."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from archive_app.errors import ValidationFailed
from archive_app.permissions import Capability, allowed, require
from archive_app.services import archives, checklist
from archive_app.services import documents as document_service
from archive_app.services.archives import ArchiveInput
from archive_app.web.context import db_session, services
from archive_app.web.forms import ArchiveForm

blueprint = Blueprint("archives", __name__)


def _list_arguments() -> dict[str, object]:
    return {
        "query": request.args.get("q", ""),
        "level": request.args.get("level") or None,
        "sort": request.args.get("sort", "number"),
        "descending": request.args.get("dir") == "desc",
        "page": request.args.get("page", 1, type=int),
        "per_page": request.args.get("per_page", 25, type=int),
    }


@blueprint.route("/archives")
@login_required
def list_page():
    arguments = _list_arguments()
    result = archives.list_archives(db_session(), current_user, **arguments)
    template = "archives/_rows.html" if request.headers.get("HX-Request") else "archives/list.html"
    return render_template(
        template,
        page=result,
        counts=document_service.document_counts(db_session(), [a.id for a in result.items]),
        unlocated=checklist.unlocated_counts(db_session(), [a.id for a in result.items]),
        args=arguments,
        can_create=allowed(current_user, Capability.MANAGE_ARCHIVES),
    )


@blueprint.route("/archives/quick-find")
@login_required
def quick_find():
    text = request.args.get("q", "").strip()
    result = (
        archives.list_archives(
            db_session(), current_user, query=text, per_page=8, record_view=bool(text)
        )
        if text
        else None
    )
    return render_template("archives/_quick_find.html", result=result, query=text)


@blueprint.route("/archives/new", methods=["GET", "POST"])
@login_required
def create():
    require(current_user, Capability.MANAGE_ARCHIVES)
    form = ArchiveForm()
    if form.validate_on_submit():
        try:
            archive = archives.create_archive(
                db_session(),
                current_user,
                ArchiveInput.from_mapping(form.data),
                number_pattern=services().settings.archive_number_pattern,
                on_created=services().on_archive_created,
            )
        except ValidationFailed as error:
            _attach_problems(form, error)
        else:
            flash(_("Archive %(number)s created.", number=archive.number), "success")
            return redirect(url_for("archives.detail", number=archive.number))
    status = 422 if form.errors else 200
    return render_template("archives/form.html", form=form, archive=None), status


@blueprint.route("/archives/<number>")
@login_required
def detail(number: str):
    archive = archives.view_archive(db_session(), current_user, number)
    return render_template(
        "archives/detail.html",
        archive=archive,
        documents=document_service.list_for_archive(db_session(), current_user, archive),
        can_edit=allowed(current_user, Capability.MANAGE_ARCHIVES),
        can_file=allowed(current_user, Capability.FILE_DOCUMENTS),
    )


@blueprint.route("/archives/<number>/edit", methods=["GET", "POST"])
@login_required
def edit(number: str):
    require(current_user, Capability.MANAGE_ARCHIVES)
    archive = archives.view_archive(db_session(), current_user, number)
    form = ArchiveForm(obj=archive)
    if request.method == "GET":
        form.customer_type.data = archive.customer_type.value
        form.level.data = archive.level.value
    if form.validate_on_submit():
        try:
            archives.update_archive(
                db_session(), current_user, number, ArchiveInput.from_mapping(form.data)
            )
        except ValidationFailed as error:
            _attach_problems(form, error)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("archives.detail", number=number))
    status = 422 if form.errors else 200
    return render_template("archives/form.html", form=form, archive=archive), status


def _attach_problems(form: ArchiveForm, error: ValidationFailed) -> None:
    for name, message in error.problems.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
