"""``archive init``: create or upgrade an instance (folder layout: :mod:`archive_app.infra.home`).

Safe to run twice: nothing existing is replaced. It creates the session signing key, the
master key (never over an existing store), the certificate signing key, the destruction
ledger's folders (in the instance and ``ARCHIVE_LEDGER_DIR``), migrates the
database, records the search backend (Tantivy for a new instance, :mod:`archive_app.search.record`), seeds document classes, retention rules and the admin user, gives archives made
before the store existed their keys, and makes the instance folder private.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from archive_app.infra import schema, vault
from archive_app.infra.config import Settings
from archive_app.infra.db import Database
from archive_app.infra.home import secret_key_path
from archive_app.infra.private_files import secure_instance, write_private_file
from archive_app.models import CustomerArchive
from archive_app.search import record as search_record
from archive_app.services import bootstrap
from archive_app.services.retention import ledger
from archive_app.services.retention.certificate_files import ensure_signing_key

Progress = Callable[[str], None]


@dataclass
class InitReport:
    home: Path
    created_admin_password: str | None = None
    steps: list[str] = field(default_factory=list)


def initialise(
    settings: Settings,
    *,
    admin_password: str | None = None,
    on_step: Progress | None = None,
) -> InitReport:
    """Create or upgrade the instance. Safe to run twice: nothing existing is replaced."""
    report = InitReport(home=settings.home)

    def step(message: str) -> None:
        report.steps.append(message)
        if on_step is not None:
            on_step(message)

    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if changed := secure_instance(settings.home):
        step(f"made {changed} file(s) and folder(s) of the instance private to this account")
    if not settings.secret_key and not secret_key_path(settings).exists():
        write_private_file(secret_key_path(settings), secrets.token_urlsafe(48).encode())
        step("created the session signing key")

    if vault.ensure_master_key(settings):
        step(f"created the master key {settings.resolved_master_key_file} (keep it out of backups)")
    if ensure_signing_key(settings):
        step("created the destruction certificate signing key")
    for folder in ledger.ensure_folders(settings):
        step(f"created the destruction ledger folder {folder}")
    store = vault.open_store(settings, create=True)  # proves the key opens the store
    database = Database(settings.database_url)
    try:
        before = schema.current_revision(database.engine)
        schema.upgrade(database.engine, store=store)
        after = schema.current_revision(database.engine)
        step(
            f"database schema at revision {after}" + ("" if before == after else f" (was {before})")
        )
        if not settings.search_url and not search_record.is_recorded(settings):
            # A new instance gets the embedded Tantivy index; one that has a database
            # already keeps the Whoosh index it has been using.
            url = search_record.default_url(settings, new_instance=before is None)
            search_record.record(settings, url)
            step(f"search backend: {url}")
        with database.session() as session:
            bootstrap.seed_chain_and_counters(session)
            added = bootstrap.seed_document_classes(session)
            if added:
                step(f"added document classes: {', '.join(added)}")
            rules = bootstrap.seed_retention_rules(session)
            if rules:
                step(f"added retention rules: {', '.join(rules)}")
            password = admin_password or secrets.token_urlsafe(12)
            # A generated password has been seen in a terminal: the admin replaces it at
            # the first login. One given in ARCHIVE_ADMIN_PASSWORD was chosen already.
            generated = admin_password is None
            if bootstrap.ensure_admin(session, password, must_change=generated) is not None:
                report.created_admin_password = None if admin_password else password
                step("created the admin user")
            # Archives created before the store existed get their keys now (idempotent).
            for storage_id in session.scalars(select(CustomerArchive.storage_id)):
                store.create_archive(storage_id)
    finally:
        store.close()
        database.dispose()
    return report
