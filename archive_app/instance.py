"""The instance folder (``ARCHIVE_HOME``) and its one-time set-up.

Layout: ``archive.db`` (SQLite, unless ``ARCHIVE_DATABASE_URL`` points elsewhere),
``secret_key`` (session signing key, 0600), ``keys/`` (master key and key store),
``blobs/`` (encrypted objects), ``index/`` (search index).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from archive_app import schema, vault
from archive_app.config import Settings
from archive_app.db import Database
from archive_app.models import CustomerArchive
from archive_app.services import bootstrap
from archive_app.services.retention.certificates import ensure_signing_key

Progress = Callable[[str], None]


@dataclass
class InitReport:
    home: Path
    created_admin_password: str | None = None
    steps: list[str] = field(default_factory=list)


def write_private_file(path: Path, content: bytes) -> None:
    """Create ``path`` with mode 0600, refusing to replace an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)


def secret_key_path(settings: Settings) -> Path:
    return settings.home / "secret_key"


def load_secret_key(settings: Settings) -> str | None:
    if settings.secret_key:
        return settings.secret_key
    path = secret_key_path(settings)
    if path.exists():
        return path.read_text().strip()
    return None


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

    settings.home.mkdir(parents=True, exist_ok=True)
    if not settings.secret_key and not secret_key_path(settings).exists():
        write_private_file(secret_key_path(settings), secrets.token_urlsafe(48).encode())
        step("created the session signing key")

    if vault.ensure_master_key(settings):
        step(f"created the master key {settings.resolved_master_key_file} (keep it out of backups)")
    if ensure_signing_key(settings):
        step("created the destruction certificate signing key")
    store = vault.open_store(settings, create=True)  # proves the key opens the store
    database = Database(settings.database_url)
    try:
        before = schema.current_revision(database.engine)
        schema.upgrade(database.engine, store=store)
        after = schema.current_revision(database.engine)
        step(
            f"database schema at revision {after}" + ("" if before == after else f" (was {before})")
        )
        with database.session() as session:
            bootstrap.seed_chain_and_counters(session)
            added = bootstrap.seed_document_classes(session)
            if added:
                step(f"added document classes: {', '.join(added)}")
            rules = bootstrap.seed_retention_rules(session)
            if rules:
                step(f"added retention rules: {', '.join(rules)}")
            password = admin_password or secrets.token_urlsafe(12)
            if bootstrap.ensure_admin(session, password) is not None:
                report.created_admin_password = None if admin_password else password
                step("created the admin user")
            # Archives created before the store existed get their keys now (idempotent).
            for storage_id in session.scalars(select(CustomerArchive.storage_id)):
                store.create_archive(storage_id)
    finally:
        store.close()
        database.dispose()
    return report
