"""``/api/docs``: Swagger UI over ``/api/openapi.json``, served from the packaged
swagger-ui-bundle files (the product loads nothing from elsewhere) with its start-up
script as a file, so the page keeps the strict Content-Security-Policy."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

blueprint = Blueprint("api_docs", __name__, url_prefix="/api")


@blueprint.route("/docs")
def page():
    return render_template("api/docs.html")


@blueprint.route("/docs/ui/<path:filename>")
def ui_file(filename: str):
    return send_from_directory(swagger_ui_path, filename)


def install(app: Flask) -> None:
    app.register_blueprint(blueprint)
