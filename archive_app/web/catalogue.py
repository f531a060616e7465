"""Tags and notes on the document page, saved searches, and the bulk edit.

The document page includes ``documents/_annotations.html``, which loads its panel from
``GET /documents/<number>/annotations`` (tags, notes, and the forms to add them); adding or
removing a tag or writing a note posts to this blueprint and answers with the panel again
(htmx swaps it in; without htmx the browser goes back to the document page). Saved
searches: ``POST /searches`` saves the search form's fields, ``POST /searches/<id>/delete``
deletes one's own; the sidebar lists the user's and the shared ones (computed in a context
processor, so templates run no query), each leading to ``/search?saved=NAME``. The bulk
edit (``POST /documents/bulk-edit``) takes the documents ticked in the search results and
shows what changed and what was refused, with the reason.
"""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from archive_app.errors import AppError, ValidationFailed
from archive_app.permissions import Capability, allowed
from archive_app.search.queries import SearchParams
from archive_app.services import bulk_edit as bulk_service
from archive_app.services import notes, saved_searches, tags
from archive_app.services.documents import get_visible
from archive_app.web.context import db_session

blueprint = Blueprint("catalogue", __name__)


def install(app: Flask) -> None:
    app.register_blueprint(blueprint)

    @app.context_processor
    def _saved_searches() -> dict[str, object]:
        if not current_user.is_authenticated or not allowed(current_user, Capability.VIEW_ARCHIVES):
            return {"sidebar_searches": []}
        return {"sidebar_searches": saved_searches.visible_searches(db_session(), current_user)}


def _panel(number: str, error: str | None = None, status: int = 200):
    session = db_session()
    document = get_visible(session, current_user, number)
    return render_template(
        "documents/_annotations_panel.html",
        document=document,
        tags=tags.tags_of(session, document),
        notes=notes.notes_of(session, document),
        may_annotate=allowed(current_user, Capability.ANNOTATE_DOCUMENTS)
        and not document.is_destroyed,
        error=error,
    ), status


def _answer(number: str, error: str | None = None):
    if request.headers.get("HX-Request"):
        return _panel(number, error)
    if error:
        flash(error, "warning")
    return redirect(url_for("documents.detail", number=number))


@blueprint.route("/documents/<number>/annotations")
@login_required
def panel(number: str):
    return _panel(number)


@blueprint.route("/documents/<number>/tags", methods=["POST"])
@login_required
def change_tags(number: str):
    add = [t for t in request.form.get("add", "").split(",") if t.strip()]
    remove = request.form.getlist("remove")
    try:
        tags.tag_document(db_session(), current_user, number, add=add, remove=remove)
    except ValidationFailed as failure:
        db_session().rollback()
        return _answer(number, _("This tag cannot be used: %(reason)s", reason=failure.message))
    return _answer(number)


@blueprint.route("/documents/<number>/notes", methods=["POST"])
@login_required
def add_note(number: str):
    try:
        notes.add_note(db_session(), current_user, number, request.form.get("text", ""))
    except ValidationFailed:
        db_session().rollback()
        return _answer(number, _("Write the note first (at most 4,000 characters)."))
    return _answer(number)


@blueprint.route("/searches", methods=["POST"])
@login_required
def save_search():
    form = request.form
    fields = {
        "query": form.get("q", ""),
        "archive": form.get("archive", ""),
        "class_code": form.get("class", ""),
        "state": form.get("state", ""),
        "tags": form.get("tags", ""),
        "date_from": form.get("date_from", ""),
        "date_to": form.get("date_to", ""),
        "amount_min": form.get("amount_min", ""),
        "amount_max": form.get("amount_max", ""),
        "sort": form.get("sort", ""),
    }
    name = " ".join(form.get("name", "").split())
    try:
        params = SearchParams.parse(fields)
        saved_searches.save_search(
            db_session(), current_user, name, params, shared=form.get("shared") == "1"
        )
    except ValidationFailed:
        db_session().rollback()
        flash(_("Give the search a name (at most 100 characters, without “/”)."), "warning")
        return _go(url_for("search.page", **_search_args(fields)))
    flash(_("Search “%(name)s” saved.", name=name), "success")
    return _go(url_for("search.page", saved=name))


def _go(target: str):
    """Where the browser goes next: htmx follows ``HX-Redirect``, a plain form a 303."""
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code=303)


def _search_args(fields: dict[str, str]) -> dict[str, str]:
    names = {"query": "q", "class_code": "class"}
    return {names.get(key, key): value for key, value in fields.items() if value}


@blueprint.route("/searches/delete", methods=["POST"])
@login_required
def delete_search():
    saved_searches.delete_search(db_session(), current_user, request.form.get("name", ""))
    flash(_("Saved search deleted."), "success")
    return redirect(url_for("search.page"))


@blueprint.route("/documents/bulk-edit", methods=["POST"])
@login_required
def bulk_edit():
    form = request.form
    numbers = form.getlist("documents")
    values = {}
    if form.get("field_name", "").strip():
        values[form["field_name"].strip()] = form.get("field_value", "")
    try:
        outcome = bulk_service.bulk_edit(
            db_session(),
            current_user,
            numbers,
            class_code=form.get("class") or None,
            values=values,
            add_tags=[t for t in form.get("add_tags", "").split(",") if t.strip()],
            remove_tags=[t for t in form.get("remove_tags", "").split(",") if t.strip()],
        )
    except AppError as failure:
        db_session().rollback()
        flash(_("Nothing was changed: %(reason)s", reason=failure.message), "warning")
        return redirect(request.referrer or url_for("search.page"))
    return render_template(
        "search/bulk_result.html",
        outcome=outcome,
        back=request.referrer or url_for("search.page"),
    )
