"""Shared fixtures and helpers for the blob store tests (real files, real crypto, no mocks)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage import BlobStore, generate_master_key
from storage.format import ChunkDecryptor
from storage.keys import SecretKey, UnwrapFailed, archive_key_context, data_key_context, unwrap

# Small chunks make multi-chunk objects cheap to build in tests.
SMALL_CHUNK = 4096


@pytest.fixture
def master_key() -> bytes:
    return generate_master_key()


@pytest.fixture
def store(tmp_path: Path, master_key: bytes):
    with BlobStore.open(tmp_path / "store", master_key, chunk_size=SMALL_CHUNK) as opened:
        opened.create_archive("A1")
        yield opened


def blob_path(root: Path, archive_id: str, object_id: str) -> Path:
    return root / "blobs" / archive_id / f"{object_id}.blob"


def decrypt_with(path: Path, key: SecretKey, archive_id: str, object_id: str) -> bytes:
    """Decrypt a blob file directly with a given data key (raises IntegrityError on failure)."""
    with open(path, "rb") as file:
        return b"".join(ChunkDecryptor(file, key, archive_id, object_id))


def keystore_rows(root: Path) -> tuple[dict[str, tuple[int, bytes]], dict[tuple[str, str], bytes]]:
    """(archive id -> (generation, wrapped key), (archive id, object id) -> wrapped data key)."""
    conn = sqlite3.connect(root / "keys" / "keystore.sqlite3")
    try:
        archives = {
            a: (g, w)
            for a, g, w in conn.execute("SELECT archive_id, generation, wrapped_key FROM archives")
        }
        objects = {
            (a, o): w
            for a, o, w in conn.execute("SELECT archive_id, object_id, wrapped_key FROM objects")
        }
    finally:
        conn.close()
    return archives, objects


def all_keys(root: Path, master: bytes) -> list[tuple[str, SecretKey]]:
    """Every key a key store yields under ``master``: archive keys and the data keys they wrap.

    Wrapped keys that do not open under ``master`` are skipped: the point is what the holder
    of ``master`` and this key store can obtain.
    """
    master_key = SecretKey(master)
    archives, objects = keystore_rows(root)
    found: list[tuple[str, SecretKey]] = []
    archive_keys: dict[str, tuple[int, SecretKey]] = {}
    for archive_id, (generation, wrapped) in archives.items():
        try:
            key = unwrap(master_key, wrapped, archive_key_context(archive_id, generation))
        except UnwrapFailed:
            continue
        archive_keys[archive_id] = (generation, key)
        found.append((f"archive key {archive_id}", key))
    for (archive_id, object_id), wrapped in objects.items():
        if archive_id not in archive_keys:
            continue
        generation, archive_key = archive_keys[archive_id]
        try:
            key = unwrap(archive_key, wrapped, data_key_context(archive_id, object_id, generation))
        except UnwrapFailed:
            continue
        found.append((f"data key {archive_id}/{object_id}", key))
    return found
