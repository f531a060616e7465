"""Key rotation re-wraps keys, never re-encrypts, and keeps everything readable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage import BlobStore, WrongMasterKey, generate_master_key

from .conftest import SMALL_CHUNK, keystore_rows


def _fill(store: BlobStore) -> dict[tuple[str, str], bytes]:
    contents = {}
    for archive_id in ("A1", "A2"):
        store.create_archive(archive_id)
        for size in (0, 10, 3 * SMALL_CHUNK + 1):
            data = os.urandom(size)
            contents[(archive_id, store.put(archive_id, data).object_id)] = data
    return contents


def _blob_bytes(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in (root / "blobs").rglob("*.blob")}


def test_master_key_rotation(tmp_path: Path, master_key: bytes) -> None:
    root = tmp_path / "s"
    with BlobStore.open(root, master_key, chunk_size=SMALL_CHUNK) as store:
        contents = _fill(store)
        blobs = _blob_bytes(root)
        new_key = generate_master_key()
        store.rotate_master_key(new_key)
        for (archive_id, object_id), data in contents.items():
            assert store.read_bytes(archive_id, object_id) == data
        extra = store.put("A1", b"after rotation").object_id
    assert _blob_bytes(root).items() >= blobs.items()  # no blob was rewritten
    with pytest.raises(WrongMasterKey):
        BlobStore.open(root, master_key)
    with BlobStore.open(root, new_key) as store:
        for (archive_id, object_id), data in contents.items():
            assert store.verify_object(archive_id, object_id)
            assert store.read_bytes(archive_id, object_id) == data
        assert store.read_bytes("A1", extra) == b"after rotation"


def test_master_key_rotation_seen_by_another_open_store(tmp_path: Path, master_key: bytes) -> None:
    root = tmp_path / "s"
    first = BlobStore.open(root, master_key)
    first.create_archive("A1")
    object_id = first.put("A1", b"data").object_id
    second = BlobStore.open(root, master_key)
    first.rotate_master_key(generate_master_key())
    with pytest.raises(WrongMasterKey):
        second.read_bytes("A1", object_id)
    first.close()
    second.close()


def test_archive_key_rotation(tmp_path: Path, master_key: bytes) -> None:
    root = tmp_path / "s"
    with BlobStore.open(root, master_key, chunk_size=SMALL_CHUNK) as store:
        contents = _fill(store)
        blobs = _blob_bytes(root)
        before_archives, before_objects = keystore_rows(root)
        store.rotate_archive_key("A1")
        store.rotate_archive_key("A1")
        after_archives, after_objects = keystore_rows(root)
        assert after_archives["A1"][0] == before_archives["A1"][0] + 2
        assert after_archives["A2"] == before_archives["A2"]
        for (archive_id, object_id), wrapped in before_objects.items():
            assert (after_objects[(archive_id, object_id)] == wrapped) == (archive_id == "A2")
        assert _blob_bytes(root) == blobs
        for (archive_id, object_id), data in contents.items():
            assert store.read_bytes(archive_id, object_id) == data
    with BlobStore.open(root, master_key) as store:
        for (archive_id, object_id), data in contents.items():
            assert store.read_bytes(archive_id, object_id) == data
