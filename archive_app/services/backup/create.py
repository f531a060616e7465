"""``create_backup``: a consistent backup of the instance into a new folder.

Contract of ``create_backup(container, session, actor, dest, *, progress=None)``:

- Only administrators (:class:`PermissionDenied` otherwise). ``dest`` must not exist or be an
  empty folder (:class:`DestinationNotEmpty`), and must not lie inside the instance folder.
- Order: the database copy first, then the key-store copy, then the blob of every object in
  that key-store copy. Only a deletion or destruction landing in between can break what
  belongs together (see :mod:`.consistency`): afterwards every object a live document or
  version of the database copy references must have its key in the key-store copy, and
  every key its blob; a backup that fails this is removed and refused with
  :class:`BackupInconsistent`: run it again.
- Each blob's copied size is checked against the source file (blobs are immutable once
  committed). ``manifest.json`` is written last, so a folder without it is incomplete.
- The master key and the session secret key are never copied; nor is the search index.
  The backup needs no master key at all: it copies ciphertext and wrapped keys.
- On any failure the partial backup is removed. On success one audit entry
  ``instance.backup`` is recorded through ``session`` (which must not have begun a
  transaction: the copy runs in transactions of its own, and on SQLite an open one would
  hold the write lock for the whole backup).
- ``progress(phase, done, total)`` reports each phase.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from archive_app.infra import vault
from archive_app.infra.container import Container
from archive_app.models import User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, require
from archive_app.services import audit
from archive_app.services.backup.consistency import SHOWN_MISSING, check_consistency
from archive_app.services.backup.database import copy_database
from archive_app.services.backup.errors import BackupError, BackupInconsistent, DestinationNotEmpty
from archive_app.services.backup.manifest import (
    DATABASE_NAME,
    KEY_STORE_NAME,
    SIGNING_DIR,
    FileEntry,
    Manifest,
    sha256_file,
    write_manifest,
)
from archive_app.services.backup.progress import Progress, no_progress
from archive_app.services.retention.certificate_files import private_key_path, public_key_path
from storage.backup import (
    blob_relative_path,
    copy_file,
    copy_key_store,
    copy_objects,
    fsync_dir,
    key_store_counts,
    sync_files,
)


@dataclass(frozen=True)
class BackupReport:
    path: Path
    manifest: Manifest

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), **self.manifest.summary()}


def product_version() -> str:
    try:
        return metadata.version("archive-records")
    except metadata.PackageNotFoundError:
        return "unknown"


def create_backup(
    container: Container,
    session: Session,
    actor: User,
    dest: Path,
    *,
    progress: Progress | None = None,
) -> BackupReport:
    """Back up the instance into the new folder ``dest``; see the module docstring."""
    require(actor, Capability.MANAGE_BACKUPS)
    if session.in_transaction():
        raise RuntimeError("create_backup() needs a session without an open transaction")
    dest = Path(dest).absolute()
    _check_destination(container, dest)
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        manifest = _write_backup(container, dest, progress or no_progress)
    except BaseException:
        _remove_partial(dest, created)
        raise
    audit.record(
        session,
        actor,
        "instance.backup",
        "instance",
        manifest.backup_id,
        after={"path": str(dest), **manifest.summary()},
    )
    return BackupReport(dest, manifest)


def _check_destination(container: Container, dest: Path) -> None:
    home = container.settings.home.resolve()
    resolved = dest.resolve()
    if resolved == home or home in resolved.parents:
        # Whatever backs up the instance folder would then hold the backup beside the
        # master key file, which is exactly what must never be stored together.
        raise BackupError(f"backup destination {dest} is inside the instance folder {home}")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise DestinationNotEmpty(dest)
    if not vault.store_has_data(container.settings):
        raise BackupError(f"no encrypted store in {vault.store_root(container.settings)}")


def _remove_partial(dest: Path, created: bool) -> None:
    if created:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                child.unlink()


def _write_backup(container: Container, dest: Path, progress: Progress) -> Manifest:
    settings = container.settings
    root = vault.store_root(settings)
    started = utcnow()
    progress("copying database", 0, None)
    database = copy_database(container.database, dest / DATABASE_NAME, progress)
    rows = sum(database.tables.values())
    progress("copying database", rows, rows)
    progress("copying keys", 0, 1)
    copy_key_store(root, dest / KEY_STORE_NAME)
    progress("copying keys", 1, 1)
    keys = key_store_counts(dest / KEY_STORE_NAME)
    files = [FileEntry(name, *sha256_file(dest / name)) for name in (DATABASE_NAME, KEY_STORE_NAME)]
    files += _copy_blobs(root, dest, keys.objects, progress)
    progress("checking consistency", 0, 1)
    check_consistency(dest / DATABASE_NAME, dest / KEY_STORE_NAME)
    progress("checking consistency", 1, 1)
    files += _copy_signing_key(container, dest)
    manifest = Manifest(
        backup_id=uuid.uuid4().hex,
        created_at=started,
        product_version=product_version(),
        dialect=database.dialect,
        alembic_revision=database.revision,
        tables=database.tables,
        key_store={"archives": keys.archives, "objects": keys.objects},
        files=files,
    )
    write_manifest(dest, manifest)
    return manifest


def _copy_blobs(root: Path, dest: Path, total: int, progress: Progress) -> list[FileEntry]:
    entries: list[FileEntry] = []
    missing: list[str] = []
    folders: set[Path] = set()
    done = 0
    progress("copying objects", done, total)
    for archive_id, object_id, _size in copy_objects(dest / KEY_STORE_NAME):
        relative = blob_relative_path(archive_id, object_id)
        source = root / relative
        target = dest / relative
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            folders.add(target.parent)
        try:
            expected = os.stat(source).st_size
            size, digest = copy_file(source, target, sync=False)
        except FileNotFoundError:
            missing.append(f"{archive_id}/{object_id}")
            continue
        if size != expected:
            raise BackupError(
                f"blob {relative} changed size while it was copied ({expected} -> {size} "
                "bytes); stored objects never change, so the store is damaged"
            )
        entries.append(FileEntry(relative.as_posix(), size, digest))
        done += 1
        progress("copying objects", done, total)
    if missing:
        raise BackupInconsistent(missing[:SHOWN_MISSING], len(missing))
    # Durable before the manifest (the commit point) is written; one pass, in parallel.
    sync_files(dest / entry.path for entry in entries)
    for folder in [*folders, dest / "blobs"]:
        with contextlib.suppress(FileNotFoundError):
            fsync_dir(folder)
    return entries


def _copy_signing_key(container: Container, dest: Path) -> list[FileEntry]:
    """Old destruction certificates must still verify after a restore: keep the key."""
    entries = []
    for source in (private_key_path(container.settings), public_key_path(container.settings)):
        if not source.exists():
            continue
        folder = dest / SIGNING_DIR
        folder.mkdir(exist_ok=True, mode=0o700)
        size, digest = copy_file(source, folder / source.name)
        entries.append(FileEntry(f"{SIGNING_DIR}/{source.name}", size, digest))
    if entries:
        fsync_dir(dest / SIGNING_DIR)
    return entries
