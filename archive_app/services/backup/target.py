"""Is the restore's target empty? Checked before anything is written.

Empty means: the database has no tables, or the backup's schema revision with every
application table empty (a database an interrupted restore rolled back); the key store
is absent, holds no key or tombstone, or holds exactly the backup's rows (installed by an
earlier attempt of the same restore); every blob file present is one of the backup's with
the same SHA-256 (ditto); no signing key other than the backup's. Anything else is data
a restore must not overwrite: :class:`TargetNotEmpty`.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url

from archive_app.infra import vault
from archive_app.infra.config import Settings
from archive_app.infra.db import Database
from archive_app.services.backup.database import schema_revision
from archive_app.services.backup.errors import TargetNotEmpty
from archive_app.services.backup.manifest import (
    BLOBS_PREFIX,
    KEY_STORE_NAME,
    SIGNING_DIR,
    FileEntry,
    Manifest,
    sha256_file,
)
from archive_app.services.backup.tables import application_tables
from archive_app.services.retention.certificate_files import private_key_path, public_key_path
from storage.backup import key_store_path, key_store_state


def check_target(
    settings: Settings,
    source: Path,
    manifest: Manifest,
    blobs: dict[str, tuple[str, str, FileEntry]],
) -> set[str]:
    """Raise :class:`TargetNotEmpty` unless the target is empty (see the module doc);
    return the blob paths an earlier attempt already put in place."""
    check_target_database(settings)
    root = vault.store_root(settings)
    state = key_store_state(key_store_path(root))
    if (
        not state.empty
        and state.fingerprint != key_store_state(source / KEY_STORE_NAME).fingerprint
    ):
        raise TargetNotEmpty(f"the key store {key_store_path(root)} holds keys")
    present: set[str] = set()
    blob_dir = root / "blobs"
    if blob_dir.is_dir():
        for path in sorted(blob_dir.rglob("*")):
            relative = path.relative_to(root).as_posix()
            if path.is_dir() or relative.startswith(BLOBS_PREFIX + ".tmp/"):
                continue
            entry = blobs[relative][2] if relative in blobs else None
            if entry is None or sha256_file(path) != (entry.size, entry.sha256):
                raise TargetNotEmpty(f"the blob folder holds {path}, which is not this backup's")
            present.add(relative)
    for name, target in signing_files(settings).items():
        entry = manifest.entry(f"{SIGNING_DIR}/{name}")
        if target.exists() and (entry is None or sha256_file(target)[1] != entry.sha256):
            raise TargetNotEmpty(f"another certificate signing key exists at {target}")
    return present


def check_target_database(settings: Settings) -> None:
    if settings.is_sqlite:
        path = make_url(settings.database_url).database
        if path and not Path(path).exists():
            return  # nothing there, and connecting would create the file
    database = Database(settings.database_url)
    try:
        with database.engine.connect() as connection:
            if not schema_revision(connection):
                return
            existing = set(inspect(connection).get_table_names())
            for table in application_tables():
                if table.name not in existing:
                    continue
                if connection.execute(select(1).select_from(table).limit(1)).first():
                    raise TargetNotEmpty(f"the database already holds data (table {table.name})")
    finally:
        database.dispose()


def signing_files(settings: Settings) -> dict[str, Path]:
    return {path.name: path for path in (private_key_path(settings), public_key_path(settings))}
