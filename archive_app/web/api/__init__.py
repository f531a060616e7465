"""The JSON API under ``/api/v1``, described by OpenAPI 3 at ``/api/openapi.json`` and
browsable at ``/api/docs``.

flask-smorest builds the description from the marshmallow schemas that validate the
requests (``schemas``), so the document cannot drift from what the API accepts. Each
module here only translates HTTP to the same service calls the pages and the CLI make;
errors become RFC 9457 problem details in the one error mapping (``web/errors.py``).
"""

from __future__ import annotations

import http

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from flask_wtf.csrf import CSRFProtect

from archive_app.web.api import archives, auth, checklist, docs, documents, retention, search
from archive_app.web.api.schemas import ProblemSchema

PROBLEM_JSON = "application/problem+json"
BLUEPRINTS = (
    archives.blueprint,
    documents.blueprint,
    search.blueprint,
    checklist.blueprint,
    retention.blueprint,
)


class ArchiveApi(Api):
    """Error responses are documented as what ``web/errors.py`` sends: problem details,
    as ``application/problem+json``."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        # flask-smorest's own registration, with our error content type (it offers no
        # setting for it apart from the content type of every response).
        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


def install(app: Flask, csrf: CSRFProtect) -> None:
    app.config.update(
        API_TITLE="Records Archive API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = ArchiveApi(app)
    for blueprint in BLUEPRINTS:
        # No session cookie is accepted on the API (auth.py): nothing for CSRF to ride on.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    auth.install(app)
    docs.install(app)
