"""One seeded instance for the whole API test package (module scope: the role matrix runs
many requests against it, and seeding per test would cost seconds each).

It holds a user per role, each with an API token, an internal archive with one processed
(born-digital) document, and the app built by the real factory.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from archive_app.app import create_app
from archive_app.infra import vault
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.services import api_tokens, archives, bootstrap, users
from archive_app.services.archives import ArchiveInput
from archive_app.services.intake import IntakeItem, take_in
from archive_app.services.processing import process_document
from archive_app.services.retention.schedule import seed_rules
from tests import documents as docs
from tests.conftest import USER_PASSWORD, CliResult, run_cli

ROLES = ("admin", "archivist", "staff", "compliance", "auditor")


@dataclass
class ApiInstance:
    app: Flask
    container: Container
    settings: Settings
    root: Path
    archive: str
    document: str
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def ingest(self, actor: str, name: str, lines: list[str]) -> str:
        """Take a born-digital PDF in through intake and process it in this process."""
        path = docs.write_text_pdf([lines], self.root / f"{uuid.uuid4().hex}.pdf")
        with self.container.database.session() as session:
            actor_id = users.get_user(session, actor).id
        [result] = take_in(
            self.container,
            actor_id,
            self.archive,
            [IntakeItem(path, name)],
            default_class="contract",
        )
        assert result.status == "queued" and result.document_id is not None, result
        process_document(self.container, result.document_id)
        return str(result.document)


@pytest.fixture(scope="package")
def api(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[ApiInstance]:
    root = tmp_path_factory.mktemp("api")
    home = root / "instance"
    home.mkdir()
    shutil.copyfile(sqlite_template, root / "archive.db")
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{root / 'archive.db'}",
        secret_key="test-secret-key-0123456789",
        ocr_workers=1,
        # Small, so that a file above it is cheap to send (test_problems).
        max_upload_bytes=256 * 1024,
        queue_name=f"test-{uuid.uuid4().hex[:12]}",
    )
    vault.ensure_master_key(settings)
    vault.open_store(settings, create=True).close()
    app = create_app(settings, testing=True)
    container: Container = app.extensions["archive"]
    tokens: dict[str, str] = {}
    with container.database.session() as session:
        seed_rules(session)
        admin = bootstrap.get_admin(session)
        assert admin is not None
        for role in ROLES[1:]:
            users.create_user(session, admin, username=role, role=role, password=USER_PASSWORD)
        users.create_user(
            session, admin, username="reviewer", role="archivist", password=USER_PASSWORD
        )
        archive = archives.create_archive(
            session,
            admin,
            ArchiveInput(name="上海明远贸易有限公司", level="internal"),
            number_pattern=settings.archive_number_pattern,
            on_created=container.on_archive_created,
        ).number
        for role in (*ROLES, "reviewer"):
            owner = users.get_user(session, role)
            _row, tokens[role] = api_tokens.create(session, owner, role, f"{role} client")
    instance = ApiInstance(app, container, settings, root, archive, "", tokens)
    instance.document = instance.ingest(
        "archivist", "合同1.pdf", ["Service Agreement 1", "Late delivery incurs a penalty."]
    )
    yield instance
    container.close()


@pytest.fixture
def cli_on():
    """``archive ARGS`` in this process against the package's instance (see ``run_cli``)."""

    def _run(instance: ApiInstance, *args: str) -> CliResult:
        env = {
            **os.environ,
            "ARCHIVE_HOME": str(instance.settings.home),
            "ARCHIVE_DATABASE_URL": instance.settings.database_url,
        }
        return run_cli(env, *args)

    return _run
