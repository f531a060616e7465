"""``/api/v1/retention``: reads only (the plan, legal holds, destruction lists). Nothing
is destroyed, held or approved through the API."""

from __future__ import annotations

from datetime import date

from flask import jsonify
from flask_login import current_user

from archive_app.services.retention import batches, holds, planning
from archive_app.web.api import schemas
from archive_app.web.api.multipart import ApiBlueprint
from archive_app.web.api.paging import page_of
from archive_app.web.context import db_session

blueprint = ApiBlueprint(
    "api_retention", __name__, url_prefix="/api/v1/retention", description="Retention (read only)"
)


def _report(description: str) -> dict:
    content = {"application/json": {"schema": {"type": "object"}}}
    return {"responses": {"200": {"description": description, "content": content}}}


@blueprint.route("/plan", methods=["GET"])
@blueprint.arguments(schemas.PlanQuery, location="query", as_kwargs=True)
@blueprint.doc(**_report("The plan as ``archive retention plan --json`` prints it"))
def plan(as_of: date | None = None):
    """What falls due as of a day, with the reason for every record."""
    return jsonify(planning.make_plan(db_session(), current_user, as_of or date.today()).as_dict())


@blueprint.route("/holds", methods=["GET"])
@blueprint.arguments(schemas.PageQuery, location="query", as_kwargs=True)
@blueprint.response(200, schemas.HoldList)
def hold_list(page: int, per_page: int):
    """Legal holds, active first; ``hidden`` counts those covering records above the
    caller's clearance."""
    listing = holds.list_holds(db_session(), current_user)
    items = [
        {**schemas.HoldSchema().dump(h), "targets": holds.hold_target_labels(h)}
        for h in listing.holds
    ]
    return {**page_of(items, page, per_page), "hidden": listing.hidden}


@blueprint.route("/batches", methods=["GET"])
@blueprint.arguments(schemas.PageQuery, location="query", as_kwargs=True)
@blueprint.response(200, schemas.BatchList)
def batch_list(page: int, per_page: int):
    """Destruction lists, newest first, with the items the caller may see."""
    listing = batches.list_batches(db_session(), current_user)
    items = [
        {
            "batch": row.number,
            "state": row.state,
            "as_of": row.as_of,
            "items": listing.visible_items[row.number],
            "hidden_items": row.item_count - listing.visible_items[row.number],
        }
        for row in listing.rows
    ]
    return {**page_of(items, page, per_page), "hidden": listing.hidden}


@blueprint.route("/batches/<number>", methods=["GET"])
@blueprint.doc(**_report("The list as ``archive retention batch show --json`` prints it"))
def batch_show(number: str):
    """One destruction list as the caller may see it, item by item."""
    shown = batches.view(db_session(), current_user, number)
    return jsonify(batches.batch_document(shown.row, shown.batch, shown.visible))
