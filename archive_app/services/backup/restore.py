"""``restore_backup``: load a backup into an empty instance, then replay the destructions
the backup does not know.

Contract of ``restore_backup(settings, source, username, *, ledger=None,
without_ledger=False, progress=None)``:

Restore initialises the instance itself; do not run ``archive init`` first. The instance
(``settings``: ``ARCHIVE_HOME`` and ``ARCHIVE_DATABASE_URL``) must be empty: a database
without tables, or with the backup's schema revision and every application table empty;
no key store, or one without keys; no blob files; no other certificate signing key. An
initialised instance is refused (:class:`TargetNotEmpty`): its admin user and audit
trail are data too, and no code path deletes audit rows. The master key must be supplied
(``ARCHIVE_MASTER_KEY`` or the key file) and be the key the backup's key store was
wrapped with: restore never creates one.

Nothing is written before all of this has been checked: the manifest exists (else
:class:`BackupIncomplete`); every listed file has its size and SHA-256
(:class:`BackupDamaged`); the schema revision is known to this version; the configured
master key opens the backed-up key store (:class:`RestoreKeyMismatch`); the acting user
``username`` is an active administrator in the backup (restore runs before the target has
users); every backed-up key has its blob; the target is empty; and the destruction
ledger (:mod:`archive_app.services.retention.ledger`) is at hand and belongs to this
backup: the folder ``ledger``, else ``ARCHIVE_LEDGER_DIR`` (neither:
:class:`LedgerRequired`, unless ``without_ledger`` says to restore without replaying
anything), every entry signed by the backup's certificate key, one unbroken chain, at
least as long as the backup's own ledger and agreeing with it
(:class:`LedgerRejected` otherwise).

Then, in this order: the blob files, the certificate signing key, the key store (each
installed atomically and never over different data), then the database in ONE transaction
that also records again the decision of every ledger entry after the backup's last one
(:func:`archive_app.services.retention.replay.replay_decisions`) and the audit entry
``instance.restore`` naming the ledger and the destructions replayed (the commit point),
then the certificate files, the whole ledger in the new instance's ledger folders, the
replayed destructions completed like interrupted ones
(:func:`archive_app.services.retention.completion.recover_interrupted`: what they
destroyed is shredded again and stubbed, with its destruction records and certificate),
and the search index, rebuilt from the restored data (:class:`RestoreIndexFailed` if
only that fails: the data is restored, `archive reindex` finishes it). Should the
restore stop after the database commit, starting the server or a worker, or re-running
``archive retention batch run`` on a replayed batch, completes the replay. Safe to run again after a failure: files an earlier attempt installed from
the same backup are recognised (same SHA-256, same key-store rows) and kept, and the
database was rolled back. Restored audit rows keep their hashes, so the chain verifies.
Stop the server and workers of the target instance while restoring.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect, select
from sqlalchemy.orm import Session, load_only

from archive_app.errors import AppError, NotFound
from archive_app.infra import vault
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.infra.db import Database
from archive_app.infra.home import secret_key_path
from archive_app.infra.private_files import write_private_file
from archive_app.models import DestructionCertificate, DestructionPlan, User
from archive_app.permissions import Capability, require
from archive_app.search import maintenance as search_maintenance
from archive_app.search import record as search_record
from archive_app.services import audit
from archive_app.services.backup.database import (
    check_revision_known,
    load_database,
    open_copy,
)
from archive_app.services.backup.errors import (
    BackupDamaged,
    BackupError,
    LedgerRejected,
    LedgerRequired,
    RestoreIndexFailed,
    RestoreKeyMismatch,
)
from archive_app.services.backup.manifest import (
    BLOBS_PREFIX,
    DATABASE_NAME,
    KEY_STORE_NAME,
    SIGNING_DIR,
    FileEntry,
    Manifest,
    read_manifest,
    verify_files,
)
from archive_app.services.backup.progress import Progress, no_progress
from archive_app.services.backup.target import check_target, signing_files
from archive_app.services.retention import ledger as ledger_files
from archive_app.services.retention.certificate_files import (
    PUBLIC_KEY_NAME,
    certificates_dir,
    write_certificate_file,
)
from archive_app.services.retention.completion import recover_interrupted
from archive_app.services.retention.replay import replay_decisions
from retention import LedgerEntry, LedgerInvalid
from storage import BlobStore, MasterKeyMissing, StorageError, WrongMasterKey
from storage.backup import (
    blob_relative_path,
    copy_objects,
    fsync_dir,
    inspect_key_store,
    install_blob,
    install_key_store,
    key_store_path,
    key_store_state,
)


@dataclass(frozen=True)
class RestoreReport:
    backup_id: str
    backup_created_at: datetime
    source_dialect: str
    tables: dict[str, int]
    objects: int
    blobs_installed: int
    indexed: int
    ledger: Path | None
    replayed: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "backup_id": self.backup_id,
            "backup_created_at": self.backup_created_at.isoformat(),
            "source_dialect": self.source_dialect,
            "rows": sum(self.tables.values()),
            "tables": self.tables,
            "objects": self.objects,
            "blobs_installed": self.blobs_installed,
            "indexed": self.indexed,
            "ledger": str(self.ledger) if self.ledger else None,
            "replayed": self.replayed,
        }


def restore_backup(
    settings: Settings,
    source: Path,
    username: str,
    *,
    ledger: Path | None = None,
    without_ledger: bool = False,
    progress: Progress | None = None,
) -> RestoreReport:
    """Restore the backup folder ``source`` into the empty instance of ``settings``."""
    report = progress or no_progress
    source = Path(source).absolute()
    manifest = read_manifest(source)
    verify_files(source, manifest, report)
    check_revision_known(manifest.alembic_revision)
    master = _check_master_key(settings, source / KEY_STORE_NAME)
    actor_id = _backup_actor(source / DATABASE_NAME, username)
    folder, to_replay = _ledger_to_replay(settings, source, manifest, ledger, without_ledger)
    blobs = _blob_entries(source, manifest)
    present = check_target(settings, source, manifest, blobs)

    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not settings.secret_key and not secret_key_path(settings).exists():
        write_private_file(secret_key_path(settings), secrets.token_urlsafe(48).encode())
    installed = _install_blobs(settings, source, blobs, present, report)
    _install_signing_key(settings, source, manifest)
    root = vault.store_root(settings)
    if key_store_state(key_store_path(root)).empty:
        install_key_store(root, source / KEY_STORE_NAME)
    BlobStore.open(root, master).close()  # proves the installed keys open with the key

    replayed: list[dict[str, Any]] = []

    def record(connection: Connection) -> None:
        with Session(bind=connection) as session:
            actor = session.get(User, actor_id)
            assert actor is not None
            replayed.extend(replay_decisions(session, actor, to_replay))
            audit.record(
                session,
                actor,
                "instance.restore",
                "instance",
                manifest.backup_id,
                after={
                    "source": str(source),
                    **manifest.summary(),
                    "ledger": str(folder) if folder else None,
                    "replayed": replayed,
                },
            )

    database = Database(settings.database_url)
    store = BlobStore.open(root, master)  # migrations of an older backup may write into it
    try:
        load_database(
            database,
            source / DATABASE_NAME,
            manifest.alembic_revision,
            manifest.tables,
            report,
            record,
            store,
        )
        _write_certificate_files(settings, database)
        _write_ledger_files(settings, database)
    finally:
        store.close()
        database.dispose()
    _complete_replayed(settings, report)
    indexed = _rebuild_index(settings, actor_id, report)
    return RestoreReport(
        backup_id=manifest.backup_id,
        backup_created_at=manifest.created_at,
        source_dialect=manifest.dialect,
        tables=manifest.tables,
        objects=len(blobs),
        blobs_installed=installed,
        indexed=indexed,
        ledger=folder,
        replayed=replayed,
    )


# ---------------------------------------------------------------- checks (nothing written)


def _check_master_key(settings: Settings, key_store_copy: Path) -> bytes:
    where = (
        "ARCHIVE_MASTER_KEY"
        if settings.master_key
        else f"key file {settings.resolved_master_key_file}"
    )
    try:
        master = vault.load_master_key(settings)
    except MasterKeyMissing:
        raise BackupError(
            f"no master key ({where} is missing): a restore needs the master key the backup "
            "was made with; supply it through ARCHIVE_MASTER_KEY or the key file"
        ) from None
    try:
        inspect_key_store(key_store_copy, master)
    except WrongMasterKey:
        raise RestoreKeyMismatch(where) from None
    except StorageError as error:
        raise BackupDamaged(key_store_copy, str(error)) from None
    return master


def _backup_actor(database_copy: Path, username: str) -> int:
    """The acting user, as the backup knows them: the target has no users yet."""
    engine = open_copy(database_copy)
    try:
        with Session(engine) as session:
            # Only the columns every schema revision has: a backup made by an older
            # version lacks the user columns added since (must_change_password, ...).
            user = session.scalar(
                select(User)
                .options(load_only(User.id, User.username, User.role, User.active))
                .where(User.username == username)
            )
            if user is None:
                raise NotFound("user in the backup", username)
            require(user, Capability.MANAGE_BACKUPS)
            return user.id
    finally:
        engine.dispose()


def _ledger_to_replay(
    settings: Settings,
    source: Path,
    manifest: Manifest,
    folder: Path | None,
    without_ledger: bool,
) -> tuple[Path | None, list[LedgerEntry]]:
    """The ledger folder used and its entries the backup does not hold (see the module
    doc); ``(None, [])`` when the operator restores without a ledger."""
    if without_ledger:
        if folder is not None:
            raise BackupError("--ledger and --without-ledger exclude each other")
        return None, []
    folder = folder or settings.ledger_dir
    if folder is None:
        raise LedgerRequired()
    folder = Path(folder).absolute()
    if not folder.is_dir():
        raise LedgerRejected(folder, "there is no such folder")
    public = _backup_public_key(source, manifest)
    try:
        entries = ledger_files.read_folder(folder, public) if public else []
    except LedgerInvalid as error:
        raise LedgerRejected(folder, str(error)) from None
    if public is None and any(folder.glob("*.json")):
        raise LedgerRejected(folder, "the backup holds no certificate key to check it with")
    known = _backup_ledger(source / DATABASE_NAME)
    if len(entries) < len(known):
        raise LedgerRejected(
            folder,
            f"it ends at entry {len(entries)} but the backup already holds entry "
            f"{len(known)}: it is an older copy",
        )
    if known and entries[len(known) - 1].sha256 != known[-1]:
        raise LedgerRejected(folder, f"its entry {len(known)} is not the backup's")
    return folder, entries[len(known) :]


def _backup_public_key(source: Path, manifest: Manifest) -> bytes | None:
    entry = manifest.entry(f"{SIGNING_DIR}/{PUBLIC_KEY_NAME}")
    return None if entry is None else (source / entry.path).read_bytes()


def _backup_ledger(database_copy: Path) -> list[str]:
    """The chain hashes of the ledger entries the backup holds, in order."""
    engine = open_copy(database_copy)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(DestructionPlan.__tablename__):
                return []  # a backup from before the ledger existed
            return list(
                connection.scalars(
                    select(DestructionPlan.ledger_sha256).order_by(DestructionPlan.ledger_seq)
                )
            )
    finally:
        engine.dispose()


def _blob_entries(source: Path, manifest: Manifest) -> dict[str, tuple[str, str, FileEntry]]:
    """The blob of every backed-up key, by relative path: (archive id, object id, entry).
    Every key must have one; blob files without a key are not restored."""
    listed = {e.path: e for e in manifest.files if e.path.startswith(BLOBS_PREFIX)}
    blobs = {}
    for archive_id, object_id, _size in copy_objects(source / KEY_STORE_NAME):
        relative = blob_relative_path(archive_id, object_id).as_posix()
        if relative not in listed:
            raise BackupDamaged(source / relative, "the key store holds its key but no blob")
        blobs[relative] = (archive_id, object_id, listed[relative])
    return blobs


# ---------------------------------------------------------------- writes


def _install_blobs(
    settings: Settings,
    source: Path,
    blobs: dict[str, tuple[str, str, FileEntry]],
    present: set[str],
    progress: Progress,
) -> int:
    root = vault.store_root(settings)
    folders: set[Path] = set()
    installed = 0
    total = len(blobs)
    progress("installing objects", 0, total)
    for done, (relative, (archive_id, object_id, entry)) in enumerate(
        sorted(blobs.items()), start=1
    ):
        if relative not in present:
            final, *written = install_blob(root, archive_id, object_id, source / relative)
            if tuple(written) != (entry.size, entry.sha256):
                raise BackupError(f"{final} does not match the backup after copying")
            folders.add(final.parent)
            installed += 1
        progress("installing objects", done, total)
    for folder in [*folders, root / "blobs"]:
        with contextlib.suppress(FileNotFoundError):
            fsync_dir(folder)
    return installed


def _install_signing_key(settings: Settings, source: Path, manifest: Manifest) -> None:
    for name, target in signing_files(settings).items():
        entry = manifest.entry(f"{SIGNING_DIR}/{name}")
        if entry is None or target.exists():
            continue
        write_private_file(target, (source / entry.path).read_bytes())


def _write_certificate_files(settings: Settings, database: Database) -> None:
    """The certificate files are copies of the rows: put them back where `run` wrote them."""
    with database.session() as session:
        for certificate_id, signed in session.execute(
            select(DestructionCertificate.certificate_id, DestructionCertificate.signed)
        ):
            if not (certificates_dir(settings) / f"{certificate_id}.json").exists():
                write_certificate_file(settings, certificate_id, signed.encode("utf-8"))


def _write_ledger_files(settings: Settings, database: Database) -> None:
    """The restored instance's ledger folders get every entry its database holds."""
    with database.session() as session:
        rows = session.execute(
            select(DestructionPlan.ledger_seq, DestructionPlan.ledger_entry).order_by(
                DestructionPlan.ledger_seq
            )
        ).all()
    ledger_files.write_entries(settings, ((seq, entry.encode("utf-8")) for seq, entry in rows))


def _complete_replayed(settings: Settings, progress: Progress) -> None:
    """Shred and stub again what the replayed decisions name (see the module doc)."""
    container = Container.from_settings(settings)
    try:

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage == "shred":
                progress("replaying destructions", done, total)

        recover_interrupted(container, on_progress)
    finally:
        container.close()


def _rebuild_index(settings: Settings, actor_id: int, progress: Progress) -> int:
    if not settings.search_url and not search_record.is_recorded(settings):
        # The index is built anew in the new folder: the embedded default of a new instance.
        search_record.record(settings, search_record.default_url(settings, new_instance=True))
    container = Container.from_settings(settings)
    try:
        with container.database.session() as session:
            actor = session.get(User, actor_id)
        assert actor is not None

        def on_progress(step: search_maintenance.Progress) -> None:
            progress("rebuilding search index", step.done, step.total)

        report = search_maintenance.rebuild(container, actor, on_progress=on_progress, restart=True)
    except (AppError, StorageError, OSError) as error:
        raise RestoreIndexFailed(str(error)) from error
    finally:
        container.close()
    return report.indexed
