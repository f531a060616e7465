"""Pages tell the people who file documents, in their language, when no background worker
runs; they say nothing once one does."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from archive_app.infra.db import Database
from archive_app.infra.workers import registered
from archive_app.models import WorkerKind
from tests.app.helpers import post_form

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers


def test_the_banner_shows_while_no_background_worker_runs(
    admin_client: FlaskClient, database: Database
) -> None:
    page = admin_client.get("/archives").get_data(as_text=True)
    assert "后台处理程序未运行" in page
    post_form(admin_client, "/language/en", {"next": "/archives"})
    page = admin_client.get("/archives").get_data(as_text=True)
    assert "Background worker not running." in page

    # Extraction inside a command (``archive import --wait``) is not a background worker.
    with registered(database, WorkerKind.INLINE):
        assert "Background worker not running." in admin_client.get("/archives").get_data(
            as_text=True
        )
    with registered(database, WorkerKind.WORKER):
        assert 'id="worker-down"' not in admin_client.get("/archives").get_data(as_text=True)
    assert 'id="worker-down"' in admin_client.get("/archives").get_data(as_text=True)
