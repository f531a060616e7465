"""Encrypted blob store: a plain library (no Flask, no ``archive_app``, no database session).

Envelope encryption with AES-256-GCM: a master key supplied by the caller wraps one key per
customer archive, which wraps one data key per stored object. Objects are stored as
authenticated chunks, streamed in constant memory, written crash-safely, and can be
crypto-shredded so that copies in earlier backups cannot be decrypted with anything the live
system holds. See ``storage.store`` for the layout, crash order and the shred guarantee and
its limits, ``storage.format`` for the blob format, ``storage.keystore`` for the key store,
``storage.backup`` for copying the key store and blobs out of and into a store root.

Typical use::

    key = load_key_file(instance / "master.key")      # or parse_master_key(env_value)
    store = BlobStore.open(instance / "storage", key)
    store.create_archive("KH-000123")
    stored = store.put("KH-000123", open(path, "rb"))
    with store.open_object("KH-000123", stored.object_id) as reader:
        shutil.copyfileobj(reader, out)
"""

from .errors import (
    ArchiveNotFound,
    ArchiveShredded,
    BlobMissing,
    InsecureKeyFile,
    IntegrityError,
    InvalidIdentifier,
    KeyStoreBusy,
    MasterKeyFileExists,
    MasterKeyInvalid,
    MasterKeyMissing,
    ObjectExists,
    ObjectNotFound,
    ObjectShredded,
    StorageError,
    WrongMasterKey,
)
from .format import DEFAULT_CHUNK_SIZE, ObjectReader
from .masterkey import (
    create_key_file,
    encode_master_key,
    generate_master_key,
    load_key_file,
    parse_master_key,
)
from .store import BlobStore, ObjectInfo, StoredObject

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ArchiveNotFound",
    "ArchiveShredded",
    "BlobMissing",
    "BlobStore",
    "InsecureKeyFile",
    "IntegrityError",
    "InvalidIdentifier",
    "KeyStoreBusy",
    "MasterKeyFileExists",
    "MasterKeyInvalid",
    "MasterKeyMissing",
    "ObjectExists",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectReader",
    "ObjectShredded",
    "StorageError",
    "StoredObject",
    "WrongMasterKey",
    "create_key_file",
    "encode_master_key",
    "generate_master_key",
    "load_key_file",
    "parse_master_key",
]
