"""Customer archive pages: list with search-as-you-type, filters and groups, create, view,
edit; the customer information table (import with its report, template, export of the
list) and the handover package download."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from archive_app.errors import ValidationFailed
from archive_app.permissions import Capability, allowed, require
from archive_app.services import (
    archives,
    bootstrap,
    checklist,
    consents,
    customer_import,
    customer_table,
    handover,
)
from archive_app.services import documents as document_service
from archive_app.services.archives import ArchiveInput
from archive_app.web import customer_problems
from archive_app.web.context import db_session, end_unit_of_work, services
from archive_app.web.forms import ArchiveForm

blueprint = Blueprint("archives", __name__)


FILTERS = ("level", "type", "industry", "region", "tag")
MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _filters() -> dict[str, str | None]:
    """The list's filters as the services name them."""
    values = {name: (request.args.get(name) or "").strip() or None for name in FILTERS}
    return {
        "query": request.args.get("q", "").strip(),
        "level": values["level"],
        "customer_type": values["type"],
        "industry": values["industry"],
        "region": values["region"],
        "tag": values["tag"],
    }


def _filter_links() -> dict[str, str]:
    """The filters as query arguments, for links that keep them (sorting, pages, export)."""
    names = {"q": request.args.get("q", "").strip()}
    names.update({name: (request.args.get(name) or "").strip() for name in FILTERS})
    return {key: value for key, value in names.items() if value}


def _list_arguments() -> dict[str, object]:
    return {
        **_filters(),
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
    group_by = request.args.get("group") or ""
    groups = (
        archives.group_counts(
            db_session(),
            current_user,
            group_by,
            archives.filter_conditions(current_user, **_filters()),
        )
        if group_by
        else None
    )
    template = "archives/_rows.html" if request.headers.get("HX-Request") else "archives/list.html"
    return render_template(
        template,
        page=result,
        groups=groups,
        group_by=group_by,
        group_names=GROUP_NAMES,
        filters=_filter_links(),
        counts=document_service.document_counts(db_session(), [a.id for a in result.items]),
        unlocated=checklist.unlocated_counts(db_session(), [a.id for a in result.items]),
        args=arguments,
        can_create=allowed(current_user, Capability.MANAGE_ARCHIVES),
    )


GROUP_NAMES = {
    "type": _l("Customer type"),
    "industry": _l("Industry"),
    "region": _l("Region"),
    "tag": _l("Tag"),
    "level": _l("Confidentiality level"),
}


def _download(data: bytes, filename: str, fmt: str) -> Response:
    response = Response(data, mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{filename.encode("ascii", "replace").decode()}"; '
        f"filename*=UTF-8''{quote(filename)}"
    )
    return response


@blueprint.route("/archives/export.<fmt>")
@login_required
def export_list(fmt: str):
    """The list as the customer information table, with the filters shown."""
    data = customer_import.export_list(
        db_session(), current_user, customer_table.format_of(f"list.{fmt}"), _filters()
    )
    return _download(data, f"客户信息表.{fmt}", fmt)


@blueprint.route("/archives/import/template.<fmt>")
@login_required
def import_template(fmt: str):
    return _download(
        customer_table.template(customer_table.format_of(f"t.{fmt}")), f"客户信息表模板.{fmt}", fmt
    )


@blueprint.route("/archives/import", methods=["GET", "POST"])
@login_required
def import_page():
    require(current_user, Capability.MANAGE_ARCHIVES)
    if request.method == "GET":
        return _import_page(None, None, 200)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page(None, _("Choose a CSV or XLSX file."), 422)
    try:
        report = customer_import.import_customers(
            db_session(),
            current_user,
            upload.read(customer_table.MAX_BYTES + 1),
            upload.filename,
            dry_run=bool(request.form.get("dry_run")),
            skip_invalid=bool(request.form.get("skip_invalid")),
            number_pattern=services().settings.archive_number_pattern,
            on_created=services().on_archives_created,
        )
    except customer_table.TableUnreadable as error:
        return _import_page(
            None, _("The file cannot be read: %(reason)s", reason=error.reason), 422
        )
    return _import_page(report, None, 422 if report.refused else 200)


COLUMN_LABELS = {
    "name": _l("Customer name"),
    "customer_type": _l("Customer type"),
    "industry": _l("Industry"),
    "region": _l("Region"),
    "tax_id": _l("Unified social credit code (tax ID)"),
    "contact": _l("Contact"),
    "address": _l("Address"),
    "business_unit": _l("Business unit"),
    "level": _l("Confidentiality level"),
    "tags": _l("Tags"),
    "notes": _l("Notes"),
    "relationship_end": _l("Relationship ended on"),
    "row": _l("Row"),
}


def _import_page(report: customer_import.ImportReport | None, error: str | None, status: int):
    return render_template(
        "archives/import.html",
        report=report,
        error=error,
        column_labels=COLUMN_LABELS,
        say_problem=customer_problems.say,
    ), status


@blueprint.route("/archives/<number>/handover", methods=["POST"])
@login_required
def handover_package(number: str):
    """The handover (移交) package, built in the private temporary folder and streamed."""
    built, summary = handover.build_private(services(), db_session(), current_user, number)
    try:
        end_unit_of_work()  # the export is audited before the first byte leaves
    except BaseException:
        handover.remove_private(built)
        raise
    response = Response(handover.stream_and_remove(built), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{summary.archive}.zip"'
    response.headers["Content-Length"] = str(summary.size)
    return response


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
        can_hand_over=allowed(current_user, Capability.EXPORT_ARCHIVE),
        consents=consents.consents_of(db_session(), archive),
        # The same bulk edit as the search results', on this archive's own list.
        may_bulk_edit=allowed(current_user, Capability.FILE_DOCUMENTS)
        or allowed(current_user, Capability.AMEND_DECLARED),
        classes=bootstrap.list_classes(db_session()),
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
        form.tags.data = "; ".join(archive.tag_names)
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
