"""The one place where errors become HTTP responses (HTML pages, JSON, or RFC 9457 problem
details on ``/api/v1``), and where a permission refusal is written to the audit trail
(:func:`record_refusal`)."""

from __future__ import annotations

import contextlib
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from archive_app.errors import AppError, LibraryError, Throttled, ValidationFailed
from archive_app.services import refusals
from archive_app.services.checklist import ChecklistIncomplete
from archive_app.web.context import services
from archive_app.web.error_messages import explain
from indexing.extract.errors import ExtractError


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


PROBLEM_TYPE = "urn:records-archive:problem:"


def _is_api() -> bool:
    return request.path.startswith(("/api/v1/", "/api/openapi")) or request.path == "/api/v1"


def problem(status: int, code: str, detail: str, errors: dict[str, Any] | None = None):
    """An ``application/problem+json`` response (RFC 9457); ``code`` is the product's error
    code (also in ``type``), ``errors`` names each invalid field."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": _status_name(status, phrase=True) or code,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _status_name(status: int, *, phrase: bool = False) -> str | None:
    """``Not Found`` (phrase) or ``not_found``; None for a status Python does not name."""
    try:
        known = HTTPStatus(status)
    except ValueError:
        return None
    return known.phrase if phrase else known.name.lower()


def _field_errors(error: AppError) -> dict[str, Any] | None:
    if isinstance(error, ChecklistIncomplete):
        return {p.field: [p.message] for p in error.problems}
    if isinstance(error, ValidationFailed):
        return {name: [message] for name, message in error.problems.items()}
    return None


def _request_errors(error: HTTPException) -> dict[str, Any] | None:
    """Field messages of a request the API's schemas refused, whatever part of the request
    (``json``, ``query``, ``form``, ``files``) they came from."""
    messages = (getattr(error, "data", None) or {}).get("messages")
    if not isinstance(messages, dict):
        return None
    merged: dict[str, Any] = {}
    for where, part in messages.items():
        # Field messages per field; a message about the whole part (a body that is not
        # JSON at all) under the part's name.
        if isinstance(part, dict):
            merged.update(part)
        else:
            merged[where] = part
    return merged or None


def _render(status: int, title: str, message: str, code: str, error: Exception):
    if _is_api():
        return problem(status, code, message)
    if _wants_json():
        return jsonify({"error": code, "message": message}), status
    return render_template(
        "errors/error.html",
        status=status,
        title=title,
        code=code,
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
        if _is_api():
            response = problem(error.http_status, error.code, str(error), _field_errors(error))
            if isinstance(error, Throttled):
                response.headers["Retry-After"] = str(error.retry_after)
            return response
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
        if _is_api():
            errors = _request_errors(error)
            code = "invalid" if errors else (_status_name(status) or str(status))
            detail = "the request does not match its schema" if errors else error.description
            return problem(status, code, detail or "", errors)
        return _render(status, str(status), error.description or "", str(status), error)
