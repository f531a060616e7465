"""App-level fixtures: the Flask app on a fresh database, users of each role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from archive_app.app import create_app
from archive_app.config import Settings
from archive_app.db import Database
from archive_app.models import User
from archive_app.services import bootstrap, users
from tests.app.helpers import login
from tests.conftest import ADMIN_PASSWORD

USER_PASSWORD = "user-password-123"


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings, testing=True)
    yield application
    application.extensions["archive"].database.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin_client(client: FlaskClient) -> FlaskClient:
    response = login(client, "admin", ADMIN_PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def make_user(database: Database):  # type: ignore[no-untyped-def]
    def _make(username: str, role: str, clearance: str | None = None) -> User:
        with database.session() as session:
            admin = bootstrap.get_admin(session)
            return users.create_user(
                session,
                admin,
                username=username,
                role=role,
                password=USER_PASSWORD,
                clearance=clearance,
            )

    return _make


@pytest.fixture
def admin(database: Database) -> User:
    with database.session() as session:
        user = bootstrap.get_admin(session)
        assert user is not None
        return user
