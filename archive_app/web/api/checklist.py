"""``/api/v1``: an archive's filing checklist, and submit, confirm and reject a line.

Same service calls as the checklist pages and ``archive checklist``; a line that cannot go
to review answers 422 with what is missing, a self-review 403, a wrong state 409.
"""

from __future__ import annotations

from flask_login import current_user

from archive_app.services import checklist
from archive_app.web.api import schemas
from archive_app.web.api.multipart import ApiBlueprint
from archive_app.web.api.paging import page_of
from archive_app.web.context import db_session

blueprint = ApiBlueprint("api_checklist", __name__, url_prefix="/api/v1", description="Checklist")


@blueprint.route("/archives/<number>/checklist", methods=["GET"])
@blueprint.arguments(schemas.ChecklistQuery, location="query", as_kwargs=True)
@blueprint.response(200, schemas.ChecklistPage)
def lines(
    number: str,
    location: str,
    unlocated: bool,
    page: int,
    per_page: int,
    state: str | None = None,
):
    """The archive's checklist lines, filtered by state or paper location."""
    _archive, views = checklist.list_lines(
        db_session(), current_user, number, location=location, unlocated=unlocated, state=state
    )
    shown = page_of(views, page, per_page)
    shown["items"] = [checklist.line_as_dict(view) for view in shown["items"]]
    return shown


@blueprint.route("/documents/<number>/checklist/submit", methods=["POST"])
@blueprint.response(200, schemas.ChecklistLineSchema)
def submit(number: str):
    """Send the line to review (another archivist confirms it)."""
    return checklist.line_as_dict(checklist.submit(db_session(), current_user, number))


@blueprint.route("/documents/<number>/checklist/confirm", methods=["POST"])
@blueprint.response(200, schemas.ChecklistLineSchema)
def confirm(number: str):
    """Confirm a line someone else submitted: the record is declared."""
    return checklist.line_as_dict(checklist.confirm(db_session(), current_user, number))


@blueprint.route("/documents/<number>/checklist/reject", methods=["POST"])
@blueprint.arguments(schemas.Rejection, as_kwargs=True)
@blueprint.response(200, schemas.ChecklistLineSchema)
def reject(number: str, reason: str):
    """Send the line back to its archivist, saying why."""
    return checklist.line_as_dict(checklist.reject(db_session(), current_user, number, reason))
