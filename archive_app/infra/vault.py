"""The app's door to the encrypted store: where the master key comes from, where the
store lives, and the one-time creation of the key.

The master key is read from ``ARCHIVE_MASTER_KEY`` (base64 or hex) when set, otherwise from
the key file (``ARCHIVE_MASTER_KEY_FILE``, default ``<home>/keys/master.key``, mode 0600).
It is never stored in the database and never logged. Keep it out of the backups of the
instance folder: crypto-shredding holds against a backup only while the backup does not
also contain the master key (see :mod:`storage.store`).
"""

from __future__ import annotations

from pathlib import Path

from archive_app.errors import MasterKeyLost, NotInitialised
from archive_app.infra.config import Settings
from storage import (
    BlobStore,
    MasterKeyMissing,
    create_key_file,
    load_key_file,
    parse_master_key,
)


def store_root(settings: Settings) -> Path:
    return settings.home / "storage"


def load_master_key(settings: Settings) -> bytes:
    if settings.master_key:
        return parse_master_key(settings.master_key, source="ARCHIVE_MASTER_KEY")
    try:
        return load_key_file(settings.resolved_master_key_file)
    except MasterKeyMissing:
        # With data in the store, a new key (``archive init``) would read nothing: the
        # only way on is the old key, restored from wherever it is kept.
        if store_has_data(settings):
            raise MasterKeyLost(store_root(settings), settings.resolved_master_key_file) from None
        raise


def open_store(settings: Settings, *, create: bool = False) -> BlobStore:
    """Open the store; a missing or wrong master key raises a storage error whose
    message says what to do. Only ``archive init`` creates a store (``create=True``):
    anywhere else a missing store means a wrong ``ARCHIVE_HOME``, and a new empty store
    keyed with whatever key was supplied would hide that."""
    if not create and not store_has_data(settings):
        raise NotInitialised(f"no encrypted store in {store_root(settings)}")
    return BlobStore.open(store_root(settings), load_master_key(settings))


def store_has_data(settings: Settings) -> bool:
    return (store_root(settings) / "keys" / "keystore.sqlite3").exists()


def ensure_master_key(settings: Settings) -> bool:
    """Create the master key file if no key is configured and no store exists yet.

    Returns True when a key was created. Never creates a key over an existing store:
    a store whose key is missing needs the old key back, not a new one.
    """
    if settings.master_key or settings.resolved_master_key_file.exists():
        return False
    if store_has_data(settings):
        raise MasterKeyLost(store_root(settings), settings.resolved_master_key_file)
    settings.resolved_master_key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    create_key_file(settings.resolved_master_key_file)
    return True
