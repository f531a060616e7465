"""A ``multipart`` request location: form fields and files of one multipart body read by
one schema, so that the upload's description is a single ``multipart/form-data`` request
body (flask-smorest documents one body location per operation; with ``form`` and
``files`` apart, the form fields would be described as OpenAPI 2 ``formData``).

Every API blueprint is an :class:`ApiBlueprint`, which parses with this parser.
"""

from __future__ import annotations

from typing import Any, ClassVar

import flask
import flask_smorest
import marshmallow as ma
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict


class MultipartParser(FlaskParser):
    __location_map__: ClassVar[dict[str, Any]] = dict(
        multipart="load_multipart", **FlaskParser.__location_map__
    )

    def load_multipart(self, req: flask.Request, schema: ma.Schema) -> Any:
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class ApiBlueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar[dict[str, str]] = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }
