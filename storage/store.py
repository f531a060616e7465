"""BlobStore: encrypted, chunked, crash-safe object storage with crypto-shredding.

On disk, under the instance folder's ``root``::

    keys/keystore.sqlite3          wrapped archive keys and data keys (see storage.keystore)
    blobs/<archive id>/<object id>.blob   sealed objects (see storage.format)
    blobs/.tmp/                    temporaries of writes in progress

One flat folder per archive: ext4 and XFS index large directories, a customer archive holds
thousands of objects rather than millions, and a flat folder lets a batch of puts share one
directory fsync (a two-character fan-out cost one fsync per object in a batch, measured).
Keys and blobs are separate so that backups, replication and shredding can treat them
differently: a blob alone is ciphertext; the keys alone are wrapped by the master key.

Durability and crash order. ``put`` streams into a temporary in ``blobs/.tmp`` (held under a
lock while its writer lives), fsyncs it, links it to its final name (never replacing an
existing file), fsyncs the directory, and only then commits the wrapped data key: the key
row is the commit point. ``put_many`` does the same for groups of objects (each blob is
still fsynced), sharing the folder fsync and one key commit per group. A crash before the
commit leaves either a temporary (removed by the next ``open``) or, in the short window
between link and key commit, a complete blob without a key: invisible to ``exists``, ``iter_objects`` and reads, undecryptable by anyone because its
data key never reached disk, and reclaimed by :meth:`BlobStore.collect_orphans` (or, by a
caller that recorded the id before the put, :meth:`BlobStore.collect_orphan`). ``delete``
and the shreds commit the key removal first (so the object is gone at once) together with an
entry in an unlink queue; the blob files are removed after the commit, and a crash in
between is finished by the next ``open``. Ids are never reused, so a queued unlink can never
remove a newer object's blob. Nothing is ever half-visible: an object either has its key
and its complete blob, or it does not exist.

Crypto-shredding. ``shred_object`` (and ``shred_objects`` for a batch) deletes the object's
wrapped data key and, in the same transaction, gives the archive a new key and re-wraps the
surviving objects' data keys under it; the old archive key then exists nowhere live, and
the key store log is truncated so no superseded page lingers in the live files. The
surviving data keys themselves do not change, so older backup copies of sibling blobs still
decrypt with the live keys. What the shred guarantees: afterwards the live key store, opened
with the live master key, yields no key that decrypts the shredded blob (wherever a copy of
it survives), and the live archive key does not unwrap the copy of the object's data key held
in an earlier backup of the key store. ``shred_archive`` deletes the archive key and all its
data keys, with the same guarantee for every object of the archive.

What it does not guarantee, stated plainly. A backup of the key store taken before the shred
still holds the old archive key wrapped by the *master* key. Anyone who holds that backup
and the master key that was current when it was taken can still unwrap it and decrypt the
shredded object. So: (1) never put the master key in the same backups as the instance folder
(supply it by environment variable or keep the key file outside the backed-up folder);
(2) after a destruction batch, when backups taken before it must become unreadable even to
someone who later obtains the live master key, rotate the master key
(:meth:`BlobStore.rotate_master_key`; cheap, only archive keys are re-wrapped) and destroy the
old one everywhere. Overwriting files before unlinking them is not attempted: on journaling
filesystems and SSDs it does not reach the old blocks; the guarantee comes from the keys.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from .atomic import AtomicFile, ensure_dir, fsync_dir, sweep_temporaries
from .errors import BlobMissing, IntegrityError, InvalidIdentifier, MasterKeyInvalid, ObjectExists
from .format import DEFAULT_CHUNK_SIZE, ChunkDecryptor, ObjectReader, Source, encrypt_stream
from .keys import KEY_BYTES, SecretKey
from .keystore import KeyStore

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
BLOB_SUFFIX = ".blob"
PUT_GROUP = 64  # objects per key-store commit in put_many; bounds open temporaries


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What ``put`` stored: the id, the SHA-256 of the plaintext, its size in bytes."""

    object_id: str
    sha256_hex: str
    size: int


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    archive_id: str
    object_id: str
    size: int


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _check_id(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidIdentifier(kind, str(value))
    return value


def _master(key: bytes, source: str) -> SecretKey:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
        raise MasterKeyInvalid(source, f"a master key is {KEY_BYTES} bytes")
    return SecretKey(bytes(key))


class BlobStore:
    """Open with :meth:`BlobStore.open`; safe to share between threads and processes."""

    def __init__(self, root: Path, keystore: KeyStore, chunk_size: int) -> None:
        self.root = root
        self._keys = keystore
        self._blobs = root / "blobs"
        self._tmp = self._blobs / ".tmp"
        self.chunk_size = chunk_size

    @classmethod
    def open(
        cls, root: Path, master_key: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> BlobStore:
        """Open (or create) the store at ``root``.

        Refuses a wrong master key with :class:`WrongMasterKey` before changing anything,
        then removes temporaries of dead writers and finishes unlinks a crash interrupted.
        """
        root = Path(root)
        master = _master(master_key, "the master key passed to BlobStore.open")
        for folder in (root / "keys", root / "blobs" / ".tmp"):
            ensure_dir(folder)
        keystore = KeyStore(root / "keys" / "keystore.sqlite3", master, root=root)
        try:
            keystore.initialise()
            store = cls(root, keystore, chunk_size)
            sweep_temporaries(store._tmp)
            store._finish_unlinks()
        except BaseException:
            keystore.close()
            raise
        return store

    def close(self) -> None:
        self._keys.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"BlobStore({str(self.root)!r})"

    # -- archives --------------------------------------------------------------------

    def create_archive(self, archive_id: str) -> None:
        """Give the archive its key; does nothing if it exists. A shredded id is refused."""
        self._keys.create_archive(_check_id("archive id", archive_id))

    def create_archives(self, archive_ids: Iterable[str]) -> None:
        """:meth:`create_archive` for many archives at once (one key-store transaction)."""
        self._keys.create_archives([_check_id("archive id", a) for a in archive_ids])

    def archive_exists(self, archive_id: str) -> bool:
        return self._keys.archive_exists(_check_id("archive id", archive_id))

    # -- objects ---------------------------------------------------------------------

    def _blob_path(self, archive_id: str, object_id: str) -> Path:
        return self._blobs / archive_id / (object_id + BLOB_SUFFIX)

    def put(self, archive_id: str, source: Source, *, object_id: str | None = None) -> StoredObject:
        """Encrypt and store ``source`` (a binary file, bytes, or an iterable of bytes).

        Streams: memory use does not depend on the object's size. Durable when it returns.
        Raises :class:`ArchiveNotFound` or :class:`ObjectExists` (ids are never reused).
        """
        _check_id("archive id", archive_id)
        object_id = uuid.uuid4().hex if object_id is None else _check_id("object id", object_id)
        self._keys.check_new_object(archive_id, object_id)
        return self._put_group(archive_id, [(object_id, source)])[0]

    def put_many(
        self,
        archive_id: str,
        sources: Iterable[Source],
        *,
        object_ids: Sequence[str] | None = None,
    ) -> list[StoredObject]:
        """Store many objects with group commits, for bulk imports.

        Same guarantees as :meth:`put` for each object, but the folder fsyncs and the
        key-store commit are shared by up to ``PUT_GROUP`` objects, which is what makes
        thousands of small objects cheap. Durable when it returns. If it raises, the groups
        committed before the failing one stay stored and the failing group leaves nothing.
        Ids are generated unless ``object_ids`` names one per source (chosen beforehand,
        so a caller can record them before the objects exist).
        """
        _check_id("archive id", archive_id)
        self._keys.require_archive(archive_id)
        named: Iterable[tuple[str, Source]]
        if object_ids is None:
            named = ((uuid.uuid4().hex, source) for source in sources)
        else:
            listed = list(sources)
            if len(object_ids) != len(listed):
                raise ValueError("put_many needs one object id per source")
            for object_id in object_ids:
                self._keys.check_new_object(archive_id, _check_id("object id", object_id))
            named = zip(object_ids, listed, strict=True)
        stored: list[StoredObject] = []
        group: list[tuple[str, Source]] = []
        for object_id, source in named:
            group.append((object_id, source))
            if len(group) == PUT_GROUP:
                stored += self._put_group(archive_id, group)
                group = []
        if group:
            stored += self._put_group(archive_id, group)
        return stored

    def _put_group(self, archive_id: str, items: list[tuple[str, Source]]) -> list[StoredObject]:
        """Blobs first (synced, linked, folders synced), then one key commit: see module doc."""
        staged: list[tuple[str, SecretKey, str, int]] = []
        linked: list[Path] = []
        try:
            with contextlib.ExitStack() as temporaries:
                written: list[AtomicFile] = []
                for object_id, source in items:
                    data_key = SecretKey.generate()
                    # Kept open (and locked) until the group is committed so no sweep in
                    # another process mistakes it for an orphan.
                    tmp = temporaries.enter_context(AtomicFile(self._tmp, object_id))
                    sha256_hex, size = encrypt_stream(
                        source, tmp, data_key, archive_id, object_id, self.chunk_size
                    )
                    written.append(tmp)
                    staged.append((object_id, data_key, sha256_hex, size))
                # fsync after all writes, from a few threads: concurrent fsyncs share journal
                # commits and device flushes, so a group costs far less than one flush each.
                if len(written) > 1:
                    with ThreadPoolExecutor(max_workers=8) as pool:
                        list(pool.map(AtomicFile.sync, written))
                else:
                    for tmp in written:
                        tmp.sync()
                for tmp, (object_id, *_) in zip(written, staged, strict=True):
                    final = self._blob_path(archive_id, object_id)
                    ensure_dir(final.parent)
                    try:
                        tmp.link(final)
                    except FileExistsError:
                        raise ObjectExists(archive_id, object_id) from None
                    linked.append(final)
                for folder in dict.fromkeys(path.parent for path in linked):
                    fsync_dir(folder)
                self._keys.add_objects(
                    archive_id, [(object_id, size, key) for object_id, key, _, size in staged]
                )
        except BaseException:
            # Linked blobs of a failed group have no key and never will: remove them.
            for path in linked:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            raise
        return [StoredObject(object_id, sha, size) for object_id, _, sha, size in staged]

    def open_object(self, archive_id: str, object_id: str) -> ObjectReader:
        """A streaming, authenticated reader; use it as a context manager.

        Raises :class:`ObjectNotFound` / :class:`ObjectShredded` here and
        :class:`IntegrityError` here or from ``read`` when the blob is damaged.
        """
        _check_id("archive id", archive_id)
        _check_id("object id", object_id)
        data_key, size = self._keys.data_key(archive_id, object_id)
        try:
            file = open(self._blob_path(archive_id, object_id), "rb", buffering=0)  # noqa: SIM115
        except FileNotFoundError:
            # Deleted or shredded since the key was read? Then report that, not damage.
            self._keys.data_key(archive_id, object_id)
            raise BlobMissing(archive_id, object_id) from None
        try:
            # Reads are strictly sequential: a larger readahead window helps cold reads.
            os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            decryptor = ChunkDecryptor(file, data_key, archive_id, object_id)
        except BaseException:
            file.close()
            raise
        return ObjectReader(file, decryptor, size)

    def read_bytes(self, archive_id: str, object_id: str) -> bytes:
        """The whole object in memory: for small objects only."""
        with self.open_object(archive_id, object_id) as reader:
            return reader.readall()

    def exists(self, archive_id: str, object_id: str) -> bool:
        return self._keys.object_exists(
            _check_id("archive id", archive_id), _check_id("object id", object_id)
        )

    def verify_object(self, archive_id: str, object_id: str) -> str:
        """Fixity check: decrypt and authenticate every chunk; return the plaintext SHA-256."""
        digest = hashlib.sha256()
        size = 0
        with self.open_object(archive_id, object_id) as reader:
            for chunk in reader.iter_chunks():
                digest.update(chunk)
                size += len(chunk)
            if size != reader.size:
                raise IntegrityError(
                    archive_id, object_id, f"holds {size} bytes, the key store says {reader.size}"
                )
        return digest.hexdigest()

    def iter_objects(self) -> Iterator[ObjectInfo]:
        """Every stored object of every archive (from the key store, in id order)."""
        for row in self._keys.iter_objects():
            yield ObjectInfo(row.archive_id, row.object_id, row.size)

    # -- removal ---------------------------------------------------------------------

    def delete(self, archive_id: str, object_id: str) -> None:
        """Ordinary removal: the data key and the blob go, the archive key stays.

        A backup copy of the key store can still open the object; use the shreds when that
        must not be possible.
        """
        self._remove(archive_id, [object_id], shred=False)

    def shred_object(self, archive_id: str, object_id: str) -> None:
        """Crypto-shred one object (see the module docstring). Shredding twice is a no-op."""
        self._remove(archive_id, [object_id], shred=True)

    def shred_objects(self, archive_id: str, object_ids: Iterable[str]) -> list[str]:
        """Crypto-shred many objects of one archive with a single archive key rotation.

        All-or-nothing: an unknown id raises :class:`ObjectNotFound` and shreds nothing.
        Returns the ids that were shredded now (not those shredded before).
        """
        return self._remove(archive_id, list(object_ids), shred=True)

    def _remove(self, archive_id: str, object_ids: list[str], *, shred: bool) -> list[str]:
        _check_id("archive id", archive_id)
        for object_id in object_ids:
            _check_id("object id", object_id)
        removed = self._keys.remove_objects(archive_id, object_ids, shred=shred)
        self._finish_unlinks()
        return removed

    def shred_archive(self, archive_id: str) -> None:
        """Destroy the archive key, every data key of it and every blob; the id stays used.

        Shredding a shredded archive again is a no-op, so a retried destruction succeeds.
        """
        self._keys.shred_archive(_check_id("archive id", archive_id))
        self._finish_unlinks()

    def _finish_unlinks(self) -> None:
        queued = self._keys.queued_unlinks()
        if not queued:
            return
        touched: set[Path] = set()
        files: list[Path] = []
        for archive_id, object_id in queued:
            if object_id:
                files.append(self._blob_path(archive_id, object_id))
            else:
                shutil.rmtree(self._blobs / archive_id, ignore_errors=True)
                touched.add(self._blobs)
        touched.update(path.parent for path in files)
        if len(files) > 1:
            # Each unlink of a synced file waits on the filesystem journal (about 3 ms on
            # the test machine); issued from a few threads they overlap: 10k shreds go from
            # half a minute to seconds.
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(_unlink_quietly, files))
        else:
            for path in files:
                _unlink_quietly(path)
        # The unlinks must be durable before the queue forgets them, or a crash could bring
        # back files nobody would remove; one fsync per folder, not per file.
        for folder in touched:
            with contextlib.suppress(FileNotFoundError):
                fsync_dir(folder)
        self._keys.unlinked(queued)

    def collect_orphan(self, archive_id: str, object_id: str) -> bool:
        """Remove the blob of one object that has no key: a put of it stopped between link
        and key commit. Only for a caller that knows no put of this id still runs (its
        writer is gone); :meth:`collect_orphans` finds such blobs without knowing their ids.
        Returns whether a blob was removed."""
        _check_id("archive id", archive_id)
        _check_id("object id", object_id)
        if self._keys.object_exists(archive_id, object_id):
            return False
        path = self._blob_path(archive_id, object_id)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
        with contextlib.suppress(FileNotFoundError):
            fsync_dir(path.parent)
        return True

    def collect_orphans(self, *, older_than_seconds: float = 3600.0) -> int:
        """Remove blobs that have no key (left by a crash between link and key commit).

        Only files older than ``older_than_seconds`` are touched, so a put in progress in
        another process is never disturbed. Scans every blob folder: run it from periodic
        maintenance, not on every start. Returns the number removed.
        """
        removed = 0
        cutoff = time.time() - older_than_seconds
        for archive_dir in self._blobs.iterdir():
            if archive_dir.name.startswith(".") or not archive_dir.is_dir():
                continue
            known = self._keys.object_ids(archive_dir.name)
            for blob in archive_dir.glob("*" + BLOB_SUFFIX):
                if blob.name[: -len(BLOB_SUFFIX)] in known:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    if blob.stat().st_mtime < cutoff:
                        blob.unlink()
                        removed += 1
        return removed

    # -- rotation --------------------------------------------------------------------

    def rotate_master_key(self, new_master_key: bytes) -> None:
        """Re-wrap every archive key under ``new_master_key``; content is not re-encrypted.

        Store the new key (e.g. ``create_key_file`` at a new path) before calling this, and
        switch the application over after it returns: the old key stops working at once.
        """
        self._keys.rotate_master(_master(new_master_key, "the new master key"))

    def rotate_archive_key(self, archive_id: str) -> None:
        """Give the archive a new key and re-wrap its data keys; content is not re-encrypted."""
        self._keys.rotate_archive(_check_id("archive id", archive_id))
