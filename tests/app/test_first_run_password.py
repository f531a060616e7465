"""The generated first password of ``admin`` (printed once by the first ``archive init``)
must be replaced at the first login; one chosen in ARCHIVE_ADMIN_PASSWORD need not be."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from archive_app.app import create_app
from archive_app.infra.config import Settings
from archive_app.services.initialise import initialise
from tests.app.helpers import login, post_form

_fresh = itertools.count()
CHOSEN = "Seven-bridges-of-the-city"


@pytest.fixture
def empty_instance(
    request: pytest.FixtureRequest, database_kind: str, tmp_path: Path
) -> Iterator[Callable[[], Settings]]:
    """Settings of a new instance over an empty database, as before the first run."""
    created: list[tuple[str, str]] = []

    def _make() -> Settings:
        home = tmp_path / f"fresh-{next(_fresh)}"
        if database_kind == "sqlite":
            url = f"sqlite:///{home / 'archive.db'}"
        else:
            admin_url = request.getfixturevalue("postgres_admin_url")
            name = f"archive_fresh_{os.getpid()}_{next(_fresh)}"
            engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            engine.dispose()
            created.append((admin_url, name))
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        return Settings(home=home, database_url=url, ocr_workers=1)

    yield _make
    for admin_url, name in created:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def test_the_generated_first_password_must_be_changed_at_first_login(empty_instance) -> None:
    settings = empty_instance()
    report = initialise(settings)
    generated = report.created_admin_password
    assert generated
    app = create_app(settings, testing=True)
    try:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        assert login(client, "admin", generated).status_code == 302
        forced = client.get("/archives")
        assert forced.status_code == 302
        assert forced.headers["Location"].endswith("/account/password")
        page = client.get("/account/password").get_data(as_text=True)
        assert "You must choose a new password before you continue" in page

        changed = post_form(
            client,
            "/account/password",
            {"current_password": generated, "password": CHOSEN, "confirm": CHOSEN},
            page="/account/password",
        )
        assert changed.status_code == 302
        assert client.get("/archives").status_code == 200
        # The generated password is gone for good.
        assert login(app.test_client(), "admin", generated).status_code == 401
    finally:
        app.extensions["archive"].close()


def test_a_chosen_first_password_is_kept(empty_instance) -> None:
    settings = empty_instance()
    report = initialise(settings, admin_password=CHOSEN)
    assert report.created_admin_password is None
    app = create_app(settings, testing=True)
    try:
        client = app.test_client()
        assert login(client, "admin", CHOSEN).status_code == 302
        assert client.get("/archives").status_code == 200
    finally:
        app.extensions["archive"].close()
