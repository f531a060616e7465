"""The one place where errors become HTTP responses (HTML pages or JSON), and where a
permission refusal is written to the audit trail (:func:`record_refusal`)."""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

from flask import Flask, g, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from archive_app.errors import AppError, LibraryError
from archive_app.services import refusals
from archive_app.web.context import services
from archive_app.web.error_messages import explain
from indexing.extract.errors import ExtractError


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _render(status: int, title: str, message: str, code: str, error: Exception):
    if _wants_json():
        return jsonify({"error": code, "message": message}), status
    return render_template(
        "errors/error.html",
        status=status,
        title=title,
        message=explain(error, status),
        back=_way_back(),
    ), status


def _way_back() -> str | None:
    """The page the user came from, when it is one of ours and not this one."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if not referrer or parts.netloc != request.host or parts.path == request.path:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def record_refusal(error: AppError) -> None:
    """If ``error`` refuses the logged-in user, record it. The request's own transaction is
    rolled back first: the refused operation did not happen, and on SQLite its open write
    would otherwise hold the lock the refusal's own transaction needs."""
    if not refusals.is_refusal(error) or not current_user.is_authenticated:
        return
    username = current_user.username
    request_session = g.get("db_session")
    if request_session is not None:
        request_session.rollback()
    # The refusal itself still reaches the user; a trail that cannot be written now is
    # reported by the operation that next writes it.
    with contextlib.suppress(SQLAlchemyError):
        refusals.record_refusal(
            services().database, username, error, where=f"{request.method} {request.path}"
        )


def register(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(error: AppError):
        record_refusal(error)
        return _render(error.http_status, error.code, str(error), error.code, error)

    def _library_error(error: Exception):
        # A file the extraction refuses is the user's to fix (422); a store failure is ours.
        status = 422 if isinstance(error, ExtractError) else 500
        return _render(status, type(error).__name__, str(error), type(error).__name__, error)

    for library_error in LibraryError:
        app.register_error_handler(library_error, _library_error)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return _render(400, "csrf", error.description, "csrf", error)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = error.code or 500
        return _render(status, str(status), error.description or "", str(status), error)
