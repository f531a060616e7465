"""The instance folder (``ARCHIVE_HOME``).

Layout: ``archive.db`` (SQLite, unless ``ARCHIVE_DATABASE_URL`` points elsewhere),
``secret_key`` (session signing key, 0600), ``keys/`` (master key, key store, certificate
signing key), ``storage/`` (encrypted objects), ``index/`` (search index),
``certificates/`` (destruction certificates), ``audit/`` (signed audit checkpoints).
Everything in it is private to the account that runs the product
(:mod:`archive_app.infra.private_files`).
"""

from __future__ import annotations

from pathlib import Path

from archive_app.infra.config import Settings


def secret_key_path(settings: Settings) -> Path:
    return settings.home / "secret_key"


def load_secret_key(settings: Settings) -> str | None:
    if settings.secret_key:
        return settings.secret_key
    path = secret_key_path(settings)
    if path.exists():
        return path.read_text().strip()
    return None
