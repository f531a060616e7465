"""``GET /api/v1/search``: the search language, filters, facets and paging of ``/search``.

The query string is checked by :class:`schemas.SearchQuery` for its shape, then parsed by
``SearchParams.parse`` exactly as the page and ``archive search`` parse it.
"""

from __future__ import annotations

from flask_login import current_user

from archive_app.search import queries as search_service
from archive_app.search.queries import SearchParams
from archive_app.web.api import schemas
from archive_app.web.api.multipart import ApiBlueprint
from archive_app.web.context import db_session, services

blueprint = ApiBlueprint("api_search", __name__, url_prefix="/api/v1", description="Search")


@blueprint.route("/search", methods=["GET"])
@blueprint.arguments(schemas.SearchQuery, location="query")
@blueprint.response(200, schemas.SearchResult)
def search(args: dict):
    """Full-text search within the caller's clearance, with counts per class and archive."""
    raw = {
        "query": args["q"],
        **{
            name: str(args[name])
            for name in (
                "archive",
                "class_code",
                "state",
                "date_from",
                "date_to",
                "amount_min",
                "amount_max",
                "sort",
                "page",
                "per_page",
            )
            if args.get(name) is not None
        },
    }
    params = SearchParams.parse(raw)
    outcome = search_service.search(services(), db_session(), current_user, params)
    return {**outcome.as_json(), "page": params.page, "per_page": params.per_page}
