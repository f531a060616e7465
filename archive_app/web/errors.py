"""The one place where errors become HTTP responses (HTML pages or JSON)."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from archive_app.errors import AppError, LibraryError
from indexing.extract.errors import ExtractError


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _render(status: int, title: str, message: str, code: str):
    if _wants_json():
        return jsonify({"error": code, "message": message}), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(error: AppError):
        return _render(error.http_status, error.code, str(error), error.code)

    def _library_error(error: Exception):
        # A file the extraction refuses is the user's to fix (422); a store failure is ours.
        status = 422 if isinstance(error, ExtractError) else 500
        return _render(status, type(error).__name__, str(error), type(error).__name__)

    for library_error in LibraryError:
        app.register_error_handler(library_error, _library_error)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return _render(400, "csrf", error.description, "csrf")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        return _render(error.code or 500, str(error.code), error.description or "", str(error.code))
