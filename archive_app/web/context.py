"""Per-request unit of work and access to the application's services container.

One SQLAlchemy session per request: committed after a successful response, rolled back
after an error response or exception, always closed.
"""

from __future__ import annotations

import tempfile
from typing import IO

from flask import Flask, Request, Response, current_app, g
from sqlalchemy.orm import Session

from archive_app.infra.container import Container

EXTENSION_KEY = "archive"
SPOOL_IN_MEMORY_BYTES = 500 * 1024  # as Werkzeug's default


def services() -> Container:
    return current_app.extensions[EXTENSION_KEY]


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = services().database.session_factory()
    return g.db_session


def install(app: Flask, container: Container) -> None:
    app.extensions[EXTENSION_KEY] = container

    @app.after_request
    def _finish_unit_of_work(response: Response) -> Response:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_request
    def _discard_on_exception(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def end_unit_of_work() -> None:
    """Commit the request's transaction now. Call before work that opens its own
    transactions (intake): on SQLite the request's open transaction holds the write lock."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.commit()


class PrivateUploadRequest(Request):
    """Uploads larger than memory allows are spooled, like Werkzeug does, but into the
    instance's private temporary folder rather than the system's /tmp: a scan in transit
    is customer content too."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return tempfile.SpooledTemporaryFile(
            max_size=SPOOL_IN_MEMORY_BYTES, mode="rb+", dir=services().temp_folder
        )
