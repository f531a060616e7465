"""The backup folder's layout and its ``manifest.json``.

Layout of a backup folder::

    database.sqlite3        the application database (SQLite, whatever the source was)
    keystore.sqlite3        the key store: archive keys wrapped by the master key
    blobs/<archive>/<object>.blob   the encrypted objects of every key in that copy
    signing/certificate-signing.pem and .pub.pem   the certificate signing key, if any
    manifest.json           written last: a folder without it is an incomplete backup

The manifest records the format version, when (UTC) and by which product version the
backup was made, the source database's dialect and Alembic revision, the row count of
every table, the key store's counts, and every file with its size and SHA-256. Never in a
backup: the master key, the session secret key, the search index (rebuilt on restore).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from archive_app.errors import NotFound
from archive_app.infra.private_files import write_private_file
from archive_app.services.backup.errors import BackupDamaged, BackupIncomplete, BackupUnsupported
from archive_app.services.backup.progress import Progress

FORMAT = "archive-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DATABASE_NAME = "database.sqlite3"
KEY_STORE_NAME = "keystore.sqlite3"
SIGNING_DIR = "signing"
BLOBS_PREFIX = "blobs/"
HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative, POSIX separators
    size: int
    sha256: str


@dataclass
class Manifest:
    backup_id: str
    created_at: datetime
    product_version: str
    dialect: str
    alembic_revision: str
    tables: dict[str, int]
    key_store: dict[str, int]
    files: list[FileEntry] = field(default_factory=list)
    format_version: int = FORMAT_VERSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": self.format_version,
            "backup_id": self.backup_id,
            "created_at": self.created_at.isoformat(),
            "product_version": self.product_version,
            "database": {
                "dialect": self.dialect,
                "alembic_revision": self.alembic_revision,
                "tables": self.tables,
            },
            "key_store": self.key_store,
            "files": [
                {"path": entry.path, "size": entry.size, "sha256": entry.sha256}
                for entry in self.files
            ],
        }

    def summary(self) -> dict[str, Any]:
        """The manifest without its file list (what audit entries and reports show)."""
        document = self.as_dict()
        files = document.pop("files")
        document["files"] = len(files)
        document["bytes"] = sum(entry["size"] for entry in files)
        return document

    def entry(self, path: str) -> FileEntry | None:
        return next((entry for entry in self.files if entry.path == path), None)


def sha256_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as reader:
        while chunk := reader.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` atomically and durably: the backup's commit point."""
    path = folder / MANIFEST_NAME
    staged = folder / (MANIFEST_NAME + ".tmp")
    data = json.dumps(manifest.as_dict(), ensure_ascii=False, indent=1).encode("utf-8")
    write_private_file(staged, data)
    os.replace(staged, path)
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def read_manifest(folder: Path) -> Manifest:
    """Parse and check ``folder/manifest.json`` (not yet the files it lists)."""
    path = folder / MANIFEST_NAME
    if not folder.is_dir():
        raise NotFound("backup folder", str(folder))
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupIncomplete(folder) from None
    except (OSError, ValueError) as error:
        raise BackupDamaged(path, f"not a readable manifest ({error})") from None
    try:
        if raw["format"] != FORMAT:
            raise BackupUnsupported(f"{path} is not an archive backup manifest")
        if raw["format_version"] != FORMAT_VERSION:
            raise BackupUnsupported(
                f"backup format version {raw['format_version']} (this version reads "
                f"{FORMAT_VERSION})"
            )
        database = raw["database"]
        manifest = Manifest(
            backup_id=str(raw["backup_id"]),
            created_at=datetime.fromisoformat(raw["created_at"]),
            product_version=str(raw["product_version"]),
            dialect=str(database["dialect"]),
            alembic_revision=str(database["alembic_revision"]),
            tables={str(k): int(v) for k, v in database["tables"].items()},
            key_store={str(k): int(v) for k, v in raw["key_store"].items()},
            files=[
                FileEntry(_safe_path(path, str(f["path"])), int(f["size"]), str(f["sha256"]))
                for f in raw["files"]
            ],
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise BackupDamaged(path, f"malformed manifest ({error!r})") from None
    return manifest


def _safe_path(manifest_path: Path, relative: str) -> str:
    """A listed path must stay inside the backup folder."""
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or ".." in parts or "\\" in relative:
        raise BackupDamaged(manifest_path, f"file path {relative!r} leaves the backup folder")
    return relative


def verify_files(folder: Path, manifest: Manifest, progress: Progress) -> None:
    """Check every listed file's presence, size and SHA-256 (reads the whole backup)."""
    for required in (DATABASE_NAME, KEY_STORE_NAME):
        if manifest.entry(required) is None:
            raise BackupDamaged(folder / MANIFEST_NAME, f"the manifest does not list {required}")
    total = len(manifest.files)
    for done, entry in enumerate(manifest.files, start=1):
        path = folder / entry.path
        try:
            size, digest = sha256_file(path)
        except FileNotFoundError:
            raise BackupDamaged(path, "listed in the manifest but missing") from None
        if size != entry.size:
            raise BackupDamaged(path, f"{size} bytes, the manifest says {entry.size}")
        if digest != entry.sha256:
            raise BackupDamaged(path, "its SHA-256 differs from the manifest (altered)")
        progress("checking backup", done, total)
