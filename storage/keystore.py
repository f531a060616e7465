"""The key store: wrapped archive keys and data keys in one small SQLite file.

Why SQLite rather than one small file per key: shredding an object rotates its archive's key
and re-wraps every surviving data key of that archive. That must be all-or-nothing, or a
crash halfway would leave some data keys wrapped under a key that no longer exists. One
SQLite transaction does it atomically with a single fsync, for 10 or 10,000 siblings, and
lets several processes (web server, workers) share the store with proper locking. It is in
the standard library, so nothing is added to the product's dependencies.

Tables: ``meta`` (format, key-check value), ``archives`` (archive id, key generation,
archive key wrapped by the master key), ``objects`` (archive id, object id, plaintext size,
data key wrapped by the archive key), ``tombstones`` (ids that were deleted or shredded;
ids are never reused, so a queued unlink can never hit a newer object), ``unlink_queue``
(blob files to remove after a committed delete or shred, finished by ``BlobStore.open``
after a crash).

The database runs in WAL mode with ``synchronous=FULL``: a commit costs one fsync (measured
0.2 ms here against 0.8-1.2 ms with a rollback journal), which matters because every put
commits a key. WAL needs shared memory between the processes using it, so the key store must
sit on a local disk; a deployment whose blobs live on shared storage needs a key-store
backend on its database server (same tables, same transactions).

Forensic hygiene, because shredding relies on old wrapped keys being gone from the live
file: ``secure_delete`` zeroes deleted and overwritten rows inside the database file, and
after every shred or rotation the write-ahead log is checkpointed and truncated to zero bytes
(:meth:`KeyStore.compact`), so no superseded page image stays in the live files. Below the
filesystem (blocks of truncated or unlinked files, SSD wear levelling) nothing is promised:
the guarantee is that no live *file* holds a superseded wrapped key.

Every archive's data keys are always wrapped under that archive's current generation, so
rows need no generation column. The master key is never stored, only its key-check value.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import (
    ArchiveNotFound,
    ArchiveShredded,
    IntegrityError,
    KeyStoreBusy,
    ObjectExists,
    ObjectNotFound,
    ObjectShredded,
    StorageError,
    WrongMasterKey,
)
from .keys import (
    SecretKey,
    UnwrapFailed,
    archive_key_context,
    data_key_context,
    key_check_matches,
    key_check_value,
    unwrap,
    wrap,
)

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS archives (
    archive_id TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,
    wrapped_key BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
    archive_id TEXT NOT NULL REFERENCES archives(archive_id),
    object_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    wrapped_key BLOB NOT NULL,
    PRIMARY KEY (archive_id, object_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tombstones (
    archive_id TEXT NOT NULL,
    object_id TEXT NOT NULL,        -- '' marks the whole archive
    kind TEXT NOT NULL,             -- 'deleted' or 'shredded'
    at REAL NOT NULL,
    PRIMARY KEY (archive_id, object_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS unlink_queue (
    archive_id TEXT NOT NULL,
    object_id TEXT NOT NULL,        -- '' means the archive's whole blob folder
    PRIMARY KEY (archive_id, object_id)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class ObjectRow:
    archive_id: str
    object_id: str
    size: int


class KeyStore:
    """Wrapped keys of one blob store; every method is one transaction."""

    def __init__(self, path: Path, master: SecretKey, *, root: Path) -> None:
        self.path = path
        self._root = root
        self._master = master
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def __repr__(self) -> str:
        return f"KeyStore({str(self.path)!r})"

    # -- connection and transactions -------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        # A connection must not cross a fork (Celery prefork workers): reconnect per pid.
        if self._conn is None or self._pid != os.getpid():
            if not self.path.exists():
                # Create it private before SQLite does; its -wal/-shm files inherit the mode.
                with contextlib.suppress(FileExistsError):
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("PRAGMA foreign_keys=ON")
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def compact(self, *, wait_seconds: float = 10.0) -> None:
        """Checkpoint the WAL into the database and truncate it to zero bytes.

        Called after every shred and rotation so no superseded page survives in the live
        log; raises :class:`KeyStoreBusy` if other connections keep it from finishing.
        """
        deadline = time.monotonic() + wait_seconds
        with self._lock:
            conn = self._connection()
            while True:
                busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    return
                if time.monotonic() > deadline:
                    raise KeyStoreBusy(self.path)
                time.sleep(0.05)

    # -- master key ------------------------------------------------------------------

    def initialise(self) -> None:
        """Create the schema and key-check value on first use; refuse a wrong master key."""
        with self._write() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE name = 'kcv'").fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO meta VALUES ('kcv', ?), ('schema', ?)",
                    (key_check_value(self._master), SCHEMA_VERSION),
                )
            elif not key_check_matches(self._master, row[0]):
                raise WrongMasterKey(self._root)
        # Finish a compaction a crash may have interrupted after a shred. If other processes
        # keep it busy now, their next shred or rotation compacts; opening must not fail.
        with contextlib.suppress(KeyStoreBusy):
            self.compact(wait_seconds=1.0)

    def _master_failed(self, conn: sqlite3.Connection) -> StorageError:
        row = conn.execute("SELECT value FROM meta WHERE name = 'kcv'").fetchone()
        if row is None or not key_check_matches(self._master, row[0]):
            # Another process rotated the master key under us.
            return WrongMasterKey(self._root)
        return StorageError(
            f"key store {self.path} holds an archive key that does not authenticate"
        )

    def rotate_master(self, new_master: SecretKey) -> None:
        with self._write() as conn:
            rows = conn.execute(
                "SELECT archive_id, generation, wrapped_key FROM archives"
            ).fetchall()
            for archive_id, generation, wrapped in rows:
                context = archive_key_context(archive_id, generation)
                try:
                    key = unwrap(self._master, wrapped, context)
                except UnwrapFailed:
                    raise self._master_failed(conn) from None
                conn.execute(
                    "UPDATE archives SET wrapped_key = ? WHERE archive_id = ?",
                    (wrap(new_master, key, context), archive_id),
                )
            conn.execute(
                "UPDATE meta SET value = ? WHERE name = 'kcv'", (key_check_value(new_master),)
            )
        self._master = new_master
        self.compact()

    # -- archives --------------------------------------------------------------------

    def create_archive(self, archive_id: str) -> None:
        with self._write() as conn:
            if self._tombstone(conn, archive_id, "") is not None:
                raise ArchiveShredded(archive_id)
            exists = conn.execute(
                "SELECT 1 FROM archives WHERE archive_id = ?", (archive_id,)
            ).fetchone()
            if exists:
                return
            key = SecretKey.generate()
            conn.execute(
                "INSERT INTO archives VALUES (?, 1, ?)",
                (archive_id, wrap(self._master, key, archive_key_context(archive_id, 1))),
            )

    def create_archives(self, archive_ids: Iterable[str]) -> None:
        """:meth:`create_archive` for many archives in one transaction (one fsync): an
        import of thousands of customers. A shredded id refuses the whole call."""
        with self._write() as conn:
            for archive_id in archive_ids:
                if self._tombstone(conn, archive_id, "") is not None:
                    raise ArchiveShredded(archive_id)
                exists = conn.execute(
                    "SELECT 1 FROM archives WHERE archive_id = ?", (archive_id,)
                ).fetchone()
                if exists:
                    continue
                key = SecretKey.generate()
                conn.execute(
                    "INSERT INTO archives VALUES (?, 1, ?)",
                    (archive_id, wrap(self._master, key, archive_key_context(archive_id, 1))),
                )

    def archive_exists(self, archive_id: str) -> bool:
        with self._read() as conn:
            return self._archive_row(conn, archive_id, missing_ok=True) is not None

    def require_archive(self, archive_id: str) -> None:
        with self._read() as conn:
            self._archive_row(conn, archive_id)

    def _archive_row(
        self, conn: sqlite3.Connection, archive_id: str, *, missing_ok: bool = False
    ) -> tuple[int, bytes] | None:
        row = conn.execute(
            "SELECT generation, wrapped_key FROM archives WHERE archive_id = ?", (archive_id,)
        ).fetchone()
        if row is None and not missing_ok:
            if self._tombstone(conn, archive_id, "") is not None:
                raise ArchiveShredded(archive_id)
            raise ArchiveNotFound(archive_id)
        return row

    def _archive_key(self, conn: sqlite3.Connection, archive_id: str) -> tuple[SecretKey, int]:
        generation, wrapped = self._archive_row(conn, archive_id)
        try:
            key = unwrap(self._master, wrapped, archive_key_context(archive_id, generation))
        except UnwrapFailed:
            raise self._master_failed(conn) from None
        return key, generation

    @staticmethod
    def _tombstone(conn: sqlite3.Connection, archive_id: str, object_id: str) -> str | None:
        row = conn.execute(
            "SELECT kind FROM tombstones WHERE archive_id = ? AND object_id = ?",
            (archive_id, object_id),
        ).fetchone()
        return None if row is None else row[0]

    def rotate_archive(self, archive_id: str) -> None:
        with self._write() as conn:
            self._rotate_archive(conn, archive_id)
        self.compact()

    def _rotate_archive(self, conn: sqlite3.Connection, archive_id: str) -> None:
        """Give the archive a new key and re-wrap its data keys (which stay the same)."""
        old, generation = self._archive_key(conn, archive_id)
        new = SecretKey.generate()
        rows = conn.execute(
            "SELECT object_id, wrapped_key FROM objects WHERE archive_id = ?", (archive_id,)
        ).fetchall()
        updates = []
        for object_id, wrapped in rows:
            try:
                data_key = unwrap(old, wrapped, data_key_context(archive_id, object_id, generation))
            except UnwrapFailed:
                raise IntegrityError(
                    archive_id, object_id, "its wrapped data key does not authenticate"
                ) from None
            updates.append(
                (
                    wrap(new, data_key, data_key_context(archive_id, object_id, generation + 1)),
                    archive_id,
                    object_id,
                )
            )
        conn.executemany(
            "UPDATE objects SET wrapped_key = ? WHERE archive_id = ? AND object_id = ?", updates
        )
        conn.execute(
            "UPDATE archives SET generation = ?, wrapped_key = ? WHERE archive_id = ?",
            (
                generation + 1,
                wrap(self._master, new, archive_key_context(archive_id, generation + 1)),
                archive_id,
            ),
        )

    def shred_archive(self, archive_id: str) -> None:
        """Destroy the archive key and every data key of it; queue its blob folder."""
        with self._write() as conn:
            if self._tombstone(conn, archive_id, "") == "shredded":
                return
            self._archive_row(conn, archive_id)
            conn.execute("DELETE FROM objects WHERE archive_id = ?", (archive_id,))
            conn.execute("DELETE FROM archives WHERE archive_id = ?", (archive_id,))
            conn.execute(
                "INSERT OR REPLACE INTO tombstones VALUES (?, '', 'shredded', ?)",
                (archive_id, time.time()),
            )
            conn.execute("INSERT OR IGNORE INTO unlink_queue VALUES (?, '')", (archive_id,))
        self.compact()

    # -- objects ---------------------------------------------------------------------

    def check_new_object(self, archive_id: str, object_id: str) -> None:
        with self._read() as conn:
            self._check_new_object(conn, archive_id, object_id)

    def _check_new_object(self, conn: sqlite3.Connection, archive_id: str, object_id: str) -> None:
        self._archive_row(conn, archive_id)
        taken = conn.execute(
            "SELECT 1 FROM objects WHERE archive_id = ? AND object_id = ?",
            (archive_id, object_id),
        ).fetchone()
        if taken or self._tombstone(conn, archive_id, object_id) is not None:
            raise ObjectExists(archive_id, object_id)

    def add_objects(self, archive_id: str, objects: list[tuple[str, int, SecretKey]]) -> None:
        """Commit point of a put: after this the objects (id, size, data key) exist.

        One transaction, so a batch costs one fsync of the key store.
        """
        with self._write() as conn:
            # Wrap inside the write transaction so a concurrent rotation cannot leave these
            # keys wrapped under a superseded archive key.
            archive_key, generation = self._archive_key(conn, archive_id)
            rows = []
            for object_id, size, data_key in objects:
                self._check_new_object(conn, archive_id, object_id)
                context = data_key_context(archive_id, object_id, generation)
                rows.append((archive_id, object_id, size, wrap(archive_key, data_key, context)))
            conn.executemany("INSERT INTO objects VALUES (?, ?, ?, ?)", rows)

    def data_key(self, archive_id: str, object_id: str) -> tuple[SecretKey, int]:
        """The object's data key and plaintext size."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT size, wrapped_key FROM objects WHERE archive_id = ? AND object_id = ?",
                (archive_id, object_id),
            ).fetchone()
            if row is None:
                self._archive_row(conn, archive_id)
                if self._tombstone(conn, archive_id, object_id) == "shredded":
                    raise ObjectShredded(archive_id, object_id)
                raise ObjectNotFound(archive_id, object_id)
            size, wrapped = row
            archive_key, generation = self._archive_key(conn, archive_id)
        try:
            key = unwrap(archive_key, wrapped, data_key_context(archive_id, object_id, generation))
        except UnwrapFailed:
            raise IntegrityError(
                archive_id, object_id, "its wrapped data key does not authenticate"
            ) from None
        return key, size

    def object_exists(self, archive_id: str, object_id: str) -> bool:
        with self._read() as conn:
            row = conn.execute(
                "SELECT 1 FROM objects WHERE archive_id = ? AND object_id = ?",
                (archive_id, object_id),
            ).fetchone()
        return row is not None

    def remove_objects(
        self, archive_id: str, object_ids: Iterable[str], *, shred: bool
    ) -> list[str]:
        """Delete data keys (and, when shredding, rotate the archive key) in one transaction.

        Returns the ids that existed; their blobs are queued for unlinking.
        """
        wanted = list(dict.fromkeys(object_ids))
        with self._write() as conn:
            self._archive_row(conn, archive_id)
            # Check every id first so a bad id in a batch changes nothing.
            for object_id in wanted:
                present = conn.execute(
                    "SELECT 1 FROM objects WHERE archive_id = ? AND object_id = ?",
                    (archive_id, object_id),
                ).fetchone()
                if present:
                    continue
                tombstone = self._tombstone(conn, archive_id, object_id)
                if tombstone == "shredded":
                    if shred:
                        continue  # shredding twice is a no-op, so a retried batch succeeds
                    raise ObjectShredded(archive_id, object_id)
                raise ObjectNotFound(archive_id, object_id)
            removed = []
            for object_id in wanted:
                cursor = conn.execute(
                    "DELETE FROM objects WHERE archive_id = ? AND object_id = ?",
                    (archive_id, object_id),
                )
                if cursor.rowcount:
                    removed.append(object_id)
                    conn.execute(
                        "INSERT OR IGNORE INTO unlink_queue VALUES (?, ?)", (archive_id, object_id)
                    )
                    conn.execute(
                        "INSERT OR REPLACE INTO tombstones VALUES (?, ?, ?, ?)",
                        (archive_id, object_id, "shredded" if shred else "deleted", time.time()),
                    )
            if shred and removed:
                self._rotate_archive(conn, archive_id)
        if shred and removed:
            self.compact()
        return removed

    def iter_objects(self, batch: int = 1000) -> Iterator[ObjectRow]:
        """Every stored object, in (archive id, object id) order, read in short transactions."""
        after = ("", "")
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    "SELECT archive_id, object_id, size FROM objects"
                    " WHERE (archive_id, object_id) > (?, ?)"
                    " ORDER BY archive_id, object_id LIMIT ?",
                    (*after, batch),
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield ObjectRow(*row)
            after = (rows[-1][0], rows[-1][1])

    def object_ids(self, archive_id: str) -> set[str]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT object_id FROM objects WHERE archive_id = ?", (archive_id,)
            ).fetchall()
        return {row[0] for row in rows}

    # -- unlink queue ----------------------------------------------------------------

    def queued_unlinks(self) -> list[tuple[str, str]]:
        with self._read() as conn:
            return conn.execute("SELECT archive_id, object_id FROM unlink_queue").fetchall()

    def unlinked(self, entries: Iterable[tuple[str, str]]) -> None:
        with self._write() as conn:
            conn.executemany(
                "DELETE FROM unlink_queue WHERE archive_id = ? AND object_id = ?", list(entries)
            )
