"""Error types of the blob store.

Every error carries the data a caller needs to act (paths, ids, reasons) as attributes, and
its ``str()`` is one line a user can act on. None of them ever carries key material.
The application maps these types to HTTP statuses and CLI exit codes in one place.
"""

from __future__ import annotations

from pathlib import Path


class StorageError(Exception):
    """Base class of every error raised by the ``storage`` package."""


class MasterKeyMissing(StorageError):
    """No master key was supplied: the key file does not exist or the value is empty."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__(
            f"master key missing: {source}; create one with `archive init` "
            "or supply it through the key file or environment variable"
        )


class MasterKeyInvalid(StorageError):
    """A master key value was supplied but is not 32 bytes in base64, hex or raw form."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"master key from {source} is unusable: {reason}")


class WrongMasterKey(StorageError):
    """The master key does not match the one this store was created with."""

    def __init__(self, root: Path) -> None:
        self.root = root
        super().__init__(
            f"the master key does not open the store at {root}; supply the key it was "
            "created with (or the key it was last rotated to)"
        )


class MasterKeyFileExists(StorageError):
    """Refusing to create a master key file because one already exists at that path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"master key file {path} already exists; refusing to overwrite it "
            "(an overwritten master key makes every stored object unreadable)"
        )


class InsecureKeyFile(StorageError):
    """The master key file is readable or writable by someone other than its owner."""

    def __init__(self, path: Path, mode: int, reason: str = "") -> None:
        self.path = path
        self.mode = mode
        self.reason = reason or f"permissions are {mode:04o}"
        super().__init__(
            f"master key file {path} is not private ({self.reason}); "
            f"run `chmod 600 {path}` as its owner"
        )


class InvalidIdentifier(StorageError, ValueError):
    """An archive or object id that cannot be used as a storage name."""

    def __init__(self, kind: str, value: str) -> None:
        self.kind = kind
        self.value = value
        super().__init__(
            f"invalid {kind} {value!r}: use 1-128 characters from A-Z a-z 0-9 . _ - "
            "starting with a letter or digit"
        )


class ArchiveNotFound(StorageError):
    """The archive has no key in this store (never created, or shredded)."""

    def __init__(self, archive_id: str) -> None:
        self.archive_id = archive_id
        super().__init__(f"archive {archive_id} does not exist in the blob store")


class ArchiveShredded(ArchiveNotFound):
    """The archive was crypto-shredded; its id is never reused."""

    def __init__(self, archive_id: str) -> None:
        super().__init__(archive_id)
        self.args = (f"archive {archive_id} was shredded; its content is destroyed for good",)


class ObjectNotFound(StorageError):
    """No object with this id exists in the archive."""

    def __init__(self, archive_id: str, object_id: str) -> None:
        self.archive_id = archive_id
        self.object_id = object_id
        super().__init__(f"object {object_id} not found in archive {archive_id}")


class ObjectShredded(ObjectNotFound):
    """The object was crypto-shredded; its content is destroyed for good."""

    def __init__(self, archive_id: str, object_id: str) -> None:
        super().__init__(archive_id, object_id)
        self.args = (
            f"object {object_id} in archive {archive_id} was shredded; "
            "its content is destroyed for good",
        )


class ObjectExists(StorageError):
    """An object with this id already exists; stored objects are immutable."""

    def __init__(self, archive_id: str, object_id: str) -> None:
        self.archive_id = archive_id
        self.object_id = object_id
        super().__init__(
            f"object {object_id} already exists in archive {archive_id}; "
            "objects are immutable, store a new one"
        )


class IntegrityError(StorageError):
    """A stored object failed authentication: it was damaged, truncated or swapped.

    Raised before any unauthenticated byte reaches the caller.
    """

    def __init__(self, archive_id: str, object_id: str, reason: str) -> None:
        self.archive_id = archive_id
        self.object_id = object_id
        self.reason = reason
        super().__init__(
            f"object {object_id} in archive {archive_id} failed its integrity check: "
            f"{reason}; restore it from a backup"
        )


class BlobMissing(IntegrityError):
    """The key store holds the object's key but its blob file is gone (restore it)."""

    def __init__(self, archive_id: str, object_id: str) -> None:
        super().__init__(archive_id, object_id, "its blob file is missing")


class KeyStoreBusy(StorageError):
    """The key store could not be compacted because other processes kept it open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"key store {path} is still in use by another process, so its log could not be "
            "emptied; retry when workers are idle (reopening the store also does it)"
        )
