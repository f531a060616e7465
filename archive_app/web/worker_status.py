"""The "background worker not running" banner: every page shown to someone who files
documents says so when no background worker is alive (:mod:`archive_app.infra.workers`), since
uploads then wait in the queue. Embedded and separate workers count alike."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user

from archive_app.infra import workers
from archive_app.permissions import Capability, allowed
from archive_app.web.context import db_session


def install(app: Flask) -> None:
    @app.context_processor
    def _worker_status() -> dict[str, object]:
        concerned = current_user.is_authenticated and allowed(
            current_user, Capability.FILE_DOCUMENTS
        )
        return {"worker_down": concerned and not workers.any_background_worker(db_session())}
