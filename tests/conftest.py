"""Shared fixtures: a real database per test, on SQLite and on PostgreSQL.

Every test that uses ``database_url`` (directly or through ``settings``/``app``) runs
once per database. The schema is migrated and seeded once per session into a template
(a SQLite file that is copied, a PostgreSQL template database that is cloned), so each
test starts from a fresh, fully migrated database in milliseconds.

PostgreSQL: ``ARCHIVE_TEST_POSTGRES_URL`` (default: the local server, user postgres).
When the server is unreachable its tests skip with the reason, unless
``ARCHIVE_TEST_REQUIRE_SERVICES=1`` (set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from archive_app.app import create_app
from archive_app.infra import schema, vault
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.infra.db import Database
from archive_app.models import User
from archive_app.services import bootstrap, users
from tests.app.workers import WorkerProcess

ADMIN_PASSWORD = "admin-password-123"
USER_PASSWORD = "user-password-123"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_counter = itertools.count()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that need a server by their parameters, so that ``-m "not postgres"``
    or ``-m "not redis"`` selects without them, and browser tests as slow (the quick lane
    is ``-m "not slow"``; CI runs everything)."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.slow)
        callspec = getattr(item, "callspec", None)
        if callspec is None:
            continue
        if "postgres" in callspec.id:
            item.add_marker(pytest.mark.postgres)
        if "redis" in callspec.id:
            item.add_marker(pytest.mark.redis)


def services_required() -> bool:
    return os.environ.get("ARCHIVE_TEST_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (ARCHIVE_TEST_REQUIRE_SERVICES=1, so this is a failure)")
    pytest.skip(reason)


def seed(url: str) -> None:
    database = Database(url)
    try:
        schema.upgrade(database.engine)
        with database.session() as session:
            bootstrap.seed_chain_and_counters(session)
            bootstrap.seed_document_classes(session)
            bootstrap.ensure_admin(session, ADMIN_PASSWORD)
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "archive.db"
    seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = os.environ.get("ARCHIVE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:
        unavailable(f"PostgreSQL is not reachable at {make_url(url).render_as_string()}: {error}")
    finally:
        engine.dispose()
    return url


def _database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str) -> Iterator[str]:
    name = f"archive_template_{os.getpid()}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    seed(_database_url(postgres_admin_url, name))
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, database_kind: str, tmp_path: Path
) -> Iterator[str]:
    if database_kind == "sqlite":
        path = tmp_path / "archive.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    template = request.getfixturevalue("postgres_template")
    name = f"archive_test_{os.getpid()}_{next(_counter)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _database_url(admin_url, name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    home = tmp_path / "instance"
    home.mkdir(exist_ok=True)
    settings = Settings(
        home=home,
        database_url=database_url,
        secret_key="test-secret-key-0123456789",
        ocr_workers=1,
    )
    vault.ensure_master_key(settings)
    vault.open_store(settings, create=True).close()
    return settings


@pytest.fixture
def instance_settings(settings: Settings) -> Settings:
    """The test instance's settings with a task queue of its own, so that the workers of
    other tests never take its tasks."""
    return settings.with_overrides(queue_name=f"test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def worker(instance_settings: Settings, tmp_path: Path) -> Iterator[WorkerProcess]:
    """A real worker process of the test instance, on its own task queue."""
    process = WorkerProcess(instance_settings, tmp_path / "worker.log")
    yield process
    process.stop()


@pytest.fixture
def container(instance_settings: Settings, database: Database) -> Iterator[Container]:
    """The services container of the test instance, its retention rules seeded as
    ``archive init`` seeds them."""
    from archive_app.services.retention.schedule import seed_rules

    with database.session() as session:
        seed_rules(session)
    instance = Container.from_settings(instance_settings)
    yield instance
    instance.close()


@pytest.fixture
def people(make_user, container: Container) -> dict[str, User]:
    """Three compliance users (to prepare, approve and execute a destruction) and an
    archivist."""
    return {
        "c1": make_user("comp1", "compliance"),
        "c2": make_user("comp2", "compliance"),
        "c3": make_user("comp3", "compliance"),
        "arch": make_user("arch", "archivist"),
    }


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings.database_url)
    yield db
    db.dispose()


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings, testing=True)
    yield application
    application.extensions["archive"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin_client(client: FlaskClient) -> FlaskClient:
    from tests.app.helpers import login

    response = login(client, "admin", ADMIN_PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def make_user(database: Database):
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


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(env: Mapping[str, str], *args: str, stdin: str | TextIO | None = None) -> CliResult:
    """``archive ARGS`` in this process, as a child process with ``env`` would run it: the
    real entry point (option parsing, error mapping, exit codes) with exactly ``env``'s
    ``ARCHIVE_*`` variables, ``stdin`` (text, or a stream the caller reads on) as standard
    input and the output captured, without the second or two of imports that every child
    process costs. The process's environment, standard input and umask (the entry point
    makes it private) are put back afterwards."""
    from archive_app.cli.main import main

    saved_env = {key: value for key, value in os.environ.items() if key.startswith("ARCHIVE_")}
    saved_stdin, saved_umask = sys.stdin, os.umask(0o077)  # reading the umask sets it ...
    os.umask(saved_umask)  # ... so it is put back at once
    for key in saved_env.keys() - env.keys():
        del os.environ[key]
    os.environ.update({key: value for key, value in env.items() if key.startswith("ARCHIVE_")})
    sys.stdin = io.StringIO(stdin or "") if stdin is None or isinstance(stdin, str) else stdin
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exit_:
                code = (
                    exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
                )
    finally:
        sys.stdin = saved_stdin
        os.umask(saved_umask)
        for key in [key for key in os.environ if key.startswith("ARCHIVE_")]:
            del os.environ[key]
        os.environ.update(saved_env)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """``archive ARGS`` in this process against the test instance (see ``run_cli``); after
    a call ``sys.stdin`` is what the command was given, so a test can see what it left."""
    env = {"ARCHIVE_HOME": str(settings.home), "ARCHIVE_DATABASE_URL": settings.database_url}

    def _run(*args: str, stdin: str = "") -> CliResult:
        stream = io.StringIO(stdin)
        monkeypatch.setattr("sys.stdin", stream)
        return run_cli({**os.environ, **env}, *args, stdin=stream)

    return _run
