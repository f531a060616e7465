"""Copying a blob store's key store and blobs out of, and back into, a store root.

A plain library like the rest of ``storage``: the application decides what a backup
holds and in which order; this module knows the store's layout and the key store's
tables, so nobody else has to.

- :func:`copy_key_store` takes a consistent copy of the live key store with SQLite's online
  backup API (one read transaction, so the copy is one moment of the store even while
  puts and shreds run) into a single self-contained file (rollback journal, no WAL);
  :func:`copy_sqlite_file` does the same for any SQLite database file.
- :func:`inspect_key_store` opens such a copy read-only, without changing a byte of it, and
  checks that a master key opens it: the key-check value first (:class:`WrongMasterKey`),
  then every archive key is unwrapped. :func:`copy_objects` lists the copy's objects.
- :func:`key_store_state` tells an empty (or absent) key store from one holding keys, and
  gives a fingerprint of its rows, so a restore can recognise a key store that an earlier,
  interrupted attempt installed from the same copy.
- :func:`install_key_store` puts a copy in place as a root's key store: only where there is
  none or an empty one (never over keys), atomically, with the stale log files removed.
- :func:`copy_file` and :func:`install_blob` move blob files with fsync (or, for many
  files, :func:`sync_files` afterwards); a blob is never replaced (ids are never reused
  and blobs are immutable).

The master key is never written by anything here; a key-store copy is useless without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .atomic import ensure_dir, fsync_dir
from .errors import StorageError, WrongMasterKey
from .keys import SecretKey, UnwrapFailed, archive_key_context, key_check_matches, unwrap
from .store import BLOB_SUFFIX, _check_id

KEY_STORE_PATH = Path("keys") / "keystore.sqlite3"
BLOBS_DIR = "blobs"
COPY_CHUNK = 1024 * 1024


def key_store_path(root: Path) -> Path:
    return Path(root) / KEY_STORE_PATH


def blob_relative_path(archive_id: str, object_id: str) -> Path:
    """Where an object's blob lives below a store root (and below a backup folder).

    The ids are checked (:class:`InvalidIdentifier`): they may come from a copy that is
    not this store's own, and must never name a path outside the blob folder.
    """
    _check_id("archive id", archive_id)
    _check_id("object id", object_id)
    return Path(BLOBS_DIR) / archive_id / (object_id + BLOB_SUFFIX)


def _read_only(path: Path) -> sqlite3.Connection:
    # immutable=1: no lock, no journal, no -wal/-shm files: the copy stays byte-identical.
    uri = Path(path).absolute().as_uri() + "?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True)


def copy_key_store(root: Path, dest: Path) -> None:
    """A consistent copy of ``root``'s key store, as one file at ``dest`` (mode 0600)."""
    source_path = key_store_path(root)
    if not source_path.exists():
        raise StorageError(f"no key store at {source_path}")
    copy_sqlite_file(source_path, dest)


def copy_sqlite_file(source_path: Path, dest: Path) -> None:
    """A consistent copy of the SQLite database at ``source_path`` as one self-contained,
    durable file at ``dest``, created with mode 0600 (refusing to replace a file).

    SQLite's online backup API copies every page under one read transaction
    (``pages=-1``), so the copy is one moment of the database even while others write; the
    copy uses a rollback journal, so it needs no ``-wal`` file beside it.
    """
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    source = sqlite3.connect(source_path, timeout=60.0)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=DELETE")
            target.commit()
        finally:
            target.close()
    finally:
        source.close()
    _fsync_file(dest)


@dataclass(frozen=True)
class KeyStoreCopy:
    archives: int
    objects: int


def inspect_key_store(path: Path, master_key: bytes) -> KeyStoreCopy:
    """Check that ``master_key`` opens the key-store copy at ``path``; count its keys.

    Raises :class:`WrongMasterKey` when the key-check value does not match or an archive
    key does not unwrap, :class:`StorageError` when the file is not a key store.
    """
    master = SecretKey(bytes(master_key))
    try:
        conn = _read_only(path)
        try:
            row = conn.execute("SELECT value FROM meta WHERE name = 'kcv'").fetchone()
            if row is None or not key_check_matches(master, row[0]):
                raise WrongMasterKey(Path(path))
            archives = 0
            for archive_id, generation, wrapped in conn.execute(
                "SELECT archive_id, generation, wrapped_key FROM archives"
            ):
                try:
                    unwrap(master, wrapped, archive_key_context(archive_id, generation))
                except UnwrapFailed:
                    raise WrongMasterKey(Path(path)) from None
                archives += 1
            (objects,) = conn.execute("SELECT count(*) FROM objects").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise StorageError(f"{path} is not a readable key store: {error}") from None
    return KeyStoreCopy(archives, objects)


def key_store_counts(path: Path) -> KeyStoreCopy:
    """How many archive keys and data keys a key-store copy holds (no key needed)."""
    conn = _read_only(path)
    try:
        (archives,) = conn.execute("SELECT count(*) FROM archives").fetchone()
        (objects,) = conn.execute("SELECT count(*) FROM objects").fetchone()
    finally:
        conn.close()
    return KeyStoreCopy(archives, objects)


def copy_objects(path: Path) -> Iterator[tuple[str, str, int]]:
    """``(archive id, object id, plaintext size)`` of every object in a key-store copy,
    in id order, streamed from one read-only connection."""
    conn = _read_only(path)
    try:
        yield from conn.execute(
            "SELECT archive_id, object_id, size FROM objects ORDER BY archive_id, object_id"
        )
    finally:
        conn.close()


@dataclass(frozen=True)
class KeyStoreState:
    exists: bool
    empty: bool
    fingerprint: str | None  # SHA-256 over every row that matters; None when absent


def key_store_state(path: Path) -> KeyStoreState:
    """Whether a key store exists at ``path``, holds any key or tombstone, and its
    fingerprint (equal for two files holding the same archives, objects and tombstones)."""
    if not Path(path).exists():
        return KeyStoreState(False, True, None)
    conn = sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True, timeout=30.0)
    try:
        digest = hashlib.sha256()
        rows = 0
        for query in (
            "SELECT archive_id, generation, wrapped_key FROM archives ORDER BY archive_id",
            "SELECT archive_id, object_id, size, wrapped_key FROM objects"
            " ORDER BY archive_id, object_id",
            "SELECT archive_id, object_id, kind FROM tombstones ORDER BY archive_id, object_id",
        ):
            digest.update(query.encode())
            for row in conn.execute(query):
                rows += 1
                digest.update(repr(row).encode())
    except sqlite3.DatabaseError as error:
        raise StorageError(f"{path} is not a readable key store: {error}") from None
    finally:
        conn.close()
    return KeyStoreState(True, rows == 0, digest.hexdigest())


def install_key_store(root: Path, copy: Path) -> None:
    """Make the key-store copy ``copy`` the key store of ``root``.

    Refuses (:class:`StorageError`) when ``root`` already has a key store holding any key
    or tombstone. An empty one is replaced together with its ``-wal``/``-shm`` files: a
    log left beside a new database file would be replayed into it. Nothing may have the
    store open meanwhile (stop the server and workers).
    """
    target = key_store_path(root)
    if not key_store_state(target).empty:
        raise StorageError(f"refusing to replace the key store {target}: it holds keys")
    ensure_dir(target.parent)
    staged = target.with_name(target.name + ".restore")
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    copy_file(copy, staged, mode=0o600)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            target.with_name(target.name + suffix).unlink()
    os.replace(staged, target)
    fsync_dir(target.parent)


def copy_file(source: Path, dest: Path, *, mode: int = 0o600, sync: bool = True) -> tuple[int, str]:
    """Copy ``source`` to the new file ``dest`` (never replaced); return its size and
    SHA-256. ``sync=False`` leaves the fsync to the caller (see :func:`sync_files`)."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with open(source, "rb", buffering=0) as reader:
            while chunk := reader.read(COPY_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(dest)
        raise
    os.close(fd)
    return size, digest.hexdigest()


def sync_files(paths: Iterable[Path]) -> None:
    """fsync many files from a few threads: concurrent fsyncs share journal commits and
    device flushes, so thousands of small files cost far less than one flush each."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in pool.map(_fsync_file, paths):
            pass


def install_blob(
    root: Path, archive_id: str, object_id: str, source: Path
) -> tuple[Path, int, str]:
    """Copy a blob file into ``root``'s blob folder under its final name; return the path
    and the size and SHA-256 of what was written.

    Written as a temporary in ``blobs/.tmp``, fsynced, then linked (never replacing a
    file: :class:`FileExistsError` if the blob is there). The caller fsyncs the archive
    folders once at the end (:func:`fsync_dir`), as ``BlobStore.put_many`` does.
    """
    final = Path(root) / blob_relative_path(archive_id, object_id)
    tmp_dir = Path(root) / BLOBS_DIR / ".tmp"
    ensure_dir(tmp_dir)
    ensure_dir(final.parent)
    staged = tmp_dir / f"restore-{archive_id}-{object_id}"
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    size, digest = copy_file(source, staged, mode=0o600)
    try:
        os.link(staged, final)
    finally:
        staged.unlink()
    return final, size, digest


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = [
    "KeyStoreCopy",
    "KeyStoreState",
    "blob_relative_path",
    "copy_file",
    "copy_key_store",
    "copy_objects",
    "fsync_dir",
    "inspect_key_store",
    "install_blob",
    "install_key_store",
    "key_store_counts",
    "key_store_path",
    "key_store_state",
    "sync_files",
]
