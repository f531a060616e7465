"""The search page (``/search``) and the JSON endpoint (``/api/search``).

Both call :func:`archive_app.search.queries.search`; this module only turns query-string
arguments into :class:`SearchParams` (``saved=NAME`` starts from a saved search's fields)
and the outcome into HTML or JSON. On the page, a
malformed query or filter is shown beside the form (with the status code of the error);
the API answers it as JSON through the common error handler.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from archive_app.errors import NotFound, UnknownDocumentClass, ValidationFailed
from archive_app.permissions import Capability, allowed
from archive_app.search import queries as search_service
from archive_app.search.queries import SearchParams
from archive_app.services import bootstrap, saved_searches, tags
from archive_app.web.context import db_session, services

blueprint = Blueprint("search", __name__)

_ARGUMENTS = {
    "q": "query",
    "archive": "archive",
    "class": "class_code",
    "tags": "tags",
    "state": "state",
    "date_from": "date_from",
    "date_to": "date_to",
    "amount_min": "amount_min",
    "amount_max": "amount_max",
    "sort": "sort",
    "page": "page",
    "per_page": "per_page",
}


_LABELS = {
    "query": _l("Search words"),
    "date_from": _l("From date"),
    "date_to": _l("To date"),
    "amount_min": _l("Minimum amount"),
    "amount_max": _l("Maximum amount"),
    "sort": _l("Sort by"),
    "state": _l("Filing state"),
    "tags": _l("Tags"),
}
_HINTS = {
    "date_from": _l("Enter a date like 2026-03-05; the end date may not be before the start."),
    "date_to": _l("Enter a date like 2026-03-05; the end date may not be before the start."),
    "amount_min": _l("Enter an amount like 12000.00; the maximum may not be below the minimum."),
    "amount_max": _l("Enter an amount like 12000.00; the maximum may not be below the minimum."),
    "query": _l("Use at most 500 characters."),
    "tags": _l("Separate tags with commas; a tag has at most 64 characters."),
}


def _explain(problems: dict[str, str]) -> dict[str, str]:
    """Field problems in the user's language (the service's own words as a fallback)."""
    return {name: str(_HINTS.get(name, message)) for name, message in problems.items()}


def _arguments() -> dict[str, str]:
    """The query string's search arguments; with ``saved=NAME``, the saved search's fields
    first, then whatever the query string gives besides (a page number, another sort)."""
    args = {arg: request.args.get(arg, "") for arg in _ARGUMENTS}
    name = request.args.get("saved", "").strip()
    if name:
        saved = saved_searches.find_search(db_session(), current_user, name)
        by_name = {field: arg for arg, field in _ARGUMENTS.items()}
        for field, value in saved.params.items():
            arg = by_name.get(field)
            if arg and not args[arg]:
                args[arg] = ",".join(value) if isinstance(value, list) else str(value)
    return args


def _raw_params() -> dict[str, str]:
    args = _arguments()
    return {name: args[arg] for arg, name in _ARGUMENTS.items()}


@blueprint.route("/search")
@login_required
def page():
    args = _arguments()
    raw = {name: args[arg] for arg, name in _ARGUMENTS.items()}
    outcome = None
    problems: dict[str, str] = {}
    error: str | None = None
    status = 200
    searched = any(value.strip() for key, value in args.items() if key not in ("sort", "page"))
    if searched:
        try:
            params = SearchParams.parse(raw)
            outcome = search_service.search(services(), db_session(), current_user, params)
        except ValidationFailed as failure:
            problems, status = failure.problems, failure.http_status
        except search_service.InvalidQuery as failure:
            status = failure.http_status
            error = _(
                "The search words cannot be read at character %(position)s (%(problem)s). "
                "Check quotes and brackets, and put a word after AND, OR and NOT.",
                position=failure.position + 1,
                problem=failure.problem,
            )
        except NotFound as failure:
            status = failure.http_status
            error = _("There is no archive %(number)s that you may see.", number=failure.identifier)
        except UnknownDocumentClass as failure:
            error, status = str(failure), failure.http_status
    template = "search/page.html"
    if request.headers.get("HX-Request"):
        # htmx swaps only successful responses; the partial shows the problem itself.
        template, status = "search/_results.html", 200
    return render_template(
        template,
        outcome=outcome,
        args=args,
        problems=_explain(problems),
        labels=_LABELS,
        error=error,
        searched=searched,
        classes=bootstrap.list_classes(db_session()),
        states=search_service.STATES,
        tags_in_use=tags.tags_in_use(db_session(), current_user),
        saved_name=request.args.get("saved", "").strip(),
        may_bulk_edit=allowed(current_user, Capability.FILE_DOCUMENTS)
        or allowed(current_user, Capability.AMEND_DECLARED),
        mark=Markup,
    ), status


@blueprint.route("/api/search")
@login_required
def api():
    params = SearchParams.parse(_raw_params())
    outcome = search_service.search(services(), db_session(), current_user, params)
    return jsonify(outcome.as_json())
