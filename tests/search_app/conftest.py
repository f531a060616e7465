"""One small, real instance per search backend, shared by every test of this package.

Two combinations run: SQLite with the embedded Whoosh index (in the instance folder,
recorded as the instance's backend the way ``archive init`` records one) and PostgreSQL with the PostgreSQL search backend (a table of its own,
``search_<random>``, inside the test's own database, dropped with it). Documents are
generated (born-digital PDFs, plus one scanned page that goes through OCR), taken in
through intake and processed by a real worker process, which indexes them.

Tests that change the shared instance put back what they changed.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from archive_app.infra import vault
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import Document, User
from archive_app.search import record as search_record
from archive_app.services import archives, bootstrap, documents, users
from archive_app.services.archives import ArchiveInput
from archive_app.services.intake import IntakeItem, take_in
from tests import documents as docs
from tests.app.workers import WorkerProcess, wait_for, worker_env
from tests.conftest import USER_PASSWORD, CliResult, _database_url, run_cli

COMBINATIONS = ["sqlite-whoosh", "postgresql-postgresql"]

# key -> (archive key, class, pages)
FILES: dict[str, tuple[str, str, list[list[str]]]] = {
    "penalty": (
        "mingyuan",
        "contract",
        [
            [
                "采购合同",
                "甲方: 上海明远贸易有限公司",
                "乙方: 北京华信科技有限公司",
                "任何一方违约的，应向守约方支付违约金。",
            ]
        ],
    ),
    "invoice": ("mingyuan", "invoice", [docs.INVOICE_LINES]),
    "agreement": (
        "harbour",
        "contract",
        [
            [
                "Service Agreement",
                "The supplier shall deliver the goods by March.",
                "Late delivery incurs a penalty. Terms <b>bold</b> & conditions apply.",
            ]
        ],
    ),
    "delivery_note": (
        "harbour",
        "other",
        [["Delivery note", "Goods delivered to the warehouse in good order."]],
    ),
    "memo": ("mingyuan", "other", [["Memo", "A quixotic xylophonist visited the archive."]]),
    "secret": (
        "secret",
        "contract",
        [["保密协议", "违约金 人民币五十万元", "The zanzibarite clause applies."]],
    ),
}


@dataclass
class Env:
    kind: str
    settings: Settings
    container: Container
    numbers: dict[str, str] = field(default_factory=dict)
    archives: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def admin(self) -> User:
        with self.container.database.session() as session:
            return bootstrap.get_admin(session)

    def user(self, name: str) -> User:
        with self.container.database.session() as session:
            return users.get_user(session, name)

    def cli(self, *args: str) -> CliResult:
        return run_cli(worker_env(self.settings, **self.extra_env()), *args)

    def extra_env(self) -> dict[str, str]:
        return {"ARCHIVE_SEARCH_URL": self.settings.search_url} if self.settings.search_url else {}


def _create_database(request: pytest.FixtureRequest, kind: str, folder: Path) -> str:
    if kind == "sqlite":
        path = folder / "archive.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    admin_url = request.getfixturevalue("postgres_admin_url")
    template = request.getfixturevalue("postgres_template")
    name = f"archive_search_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    request.addfinalizer(drop)
    return _database_url(admin_url, name)


@pytest.fixture(scope="session", params=COMBINATIONS)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    docs.require_cjk_font()
    database_kind, search_kind = request.param.split("-")
    folder = tmp_path_factory.mktemp(request.param)
    database_url = _create_database(request, database_kind, folder)
    search_url = None  # the Whoosh index recorded below
    if search_kind == "postgresql":
        search_url = f"{database_url}?table=search_{uuid.uuid4().hex[:10]}"
    home = folder / "instance"
    home.mkdir()
    settings = Settings(
        home=home,
        database_url=database_url,
        secret_key="test-secret-key-0123456789",
        ocr_workers=1,
        search_url=search_url,
        queue_name=f"test-{uuid.uuid4().hex[:12]}",
    )
    vault.ensure_master_key(settings)
    vault.open_store(settings, create=True).close()
    if search_url is None:
        search_record.record(settings, f"whoosh://{home / 'index'}")
    container = Container.from_settings(settings)
    environment = Env(request.param, settings, container)
    try:
        _populate(environment, folder)
        yield environment
    finally:
        container.close()


def _populate(env: Env, folder: Path) -> None:
    container = env.container
    with container.database.session() as session:
        admin = bootstrap.get_admin(session)
        users.create_user(
            session,
            admin,
            username="staff",
            role="staff",
            password=USER_PASSWORD,
            clearance="internal",
        )
        for key, name, level in (
            ("mingyuan", "上海明远贸易有限公司", "internal"),
            ("harbour", "Harbour Tools Ltd", "public"),
            ("secret", "北京华信科技有限公司", "secret"),
        ):
            archive = archives.create_archive(
                session,
                admin,
                ArchiveInput(name=name, level=level),
                number_pattern="KH-{seq:06d}",
                on_created=container.on_archive_created,
            )
            env.archives[key] = archive.number
        admin_id = admin.id
    files = folder / "files"
    files.mkdir()
    for key, (archive_key, class_code, pages) in FILES.items():
        path = docs.write_text_pdf(pages, files / f"{key}.pdf")
        [result] = take_in(
            container,
            admin_id,
            env.archives[archive_key],
            [IntakeItem(path, f"{key}.pdf")],
            default_class=class_code,
        )
        assert result.document, result
        env.numbers[key] = result.document
    scan = docs.write_png(docs.render_page(docs.CONTRACT_LINES), files / "scan.png")
    [result] = take_in(
        container,
        admin_id,
        env.archives["mingyuan"],
        [IntakeItem(scan, "scan.png")],
        default_class="contract",
    )
    env.numbers["scan"] = result.document
    worker = WorkerProcess(env.settings, folder / "worker.log", **env.extra_env())
    try:
        done = wait_for(
            container.database, env.numbers.values(), {"ready", "failed"}, worker=worker
        )
    finally:
        worker.stop()
    assert {n: d.status.value for n, d in done.items()} == dict.fromkeys(
        env.numbers.values(), "ready"
    )
    with container.database.session() as session:
        rows = session.execute(select(Document.number, Document.id)).all()
    by_number = {number: id_ for number, id_ in rows}
    env.ids = {key: by_number[number] for key, number in env.numbers.items()}
    with container.database.session() as session:
        # The archivist accepts the invoice's suggestions: its date and amount become
        # saved values, which the date and amount filters search.
        documents.edit_document(
            session,
            session.get(User, admin_id),
            env.numbers["invoice"],
            accept_suggestions=True,
            container=container,
        )
