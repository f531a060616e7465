"""Crypto-shredding holds against a copy of the store taken before the shred."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from storage import (
    ArchiveShredded,
    BlobStore,
    IntegrityError,
    ObjectNotFound,
    ObjectShredded,
    generate_master_key,
)
from storage.keys import SecretKey, UnwrapFailed, data_key_context, unwrap

from .conftest import SMALL_CHUNK, all_keys, blob_path, decrypt_with, keystore_rows


def _undecryptable(
    path: Path, keys: list[tuple[str, SecretKey]], archive_id: str, object_id: str
) -> None:
    assert keys, "expected some keys to try"
    for name, key in keys:
        with pytest.raises(IntegrityError):
            decrypt_with(path, key, archive_id, object_id)
            pytest.fail(f"{name} decrypted the shredded blob")


def _live_key_files(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((root / "keys").iterdir()) if p.is_file())


@pytest.fixture
def populated(tmp_path: Path, master_key: bytes):
    store = BlobStore.open(tmp_path / "live", master_key, chunk_size=SMALL_CHUNK)
    store.create_archive("A1")
    store.create_archive("A2")
    contents = {}
    for archive_id, object_id in [("A1", "x"), ("A1", "y"), ("A1", "z"), ("A2", "w")]:
        data = os.urandom(2 * SMALL_CHUNK + 11)
        store.put(archive_id, data, object_id=object_id)
        contents[(archive_id, object_id)] = data
    backup = tmp_path / "backup"
    shutil.copytree(store.root, backup)
    yield store, backup, contents
    store.close()


def test_shred_object_defeats_a_prior_backup(populated, master_key: bytes) -> None:
    store, backup, contents = populated
    live = store.root
    old_archives, old_objects = keystore_rows(backup)

    store.shred_object("A1", "x")

    # The live system no longer has it.
    assert not store.exists("A1", "x")
    assert not blob_path(live, "A1", "x").exists()
    with pytest.raises(ObjectShredded) as caught:
        store.read_bytes("A1", "x")
    assert (caught.value.archive_id, caught.value.object_id) == ("A1", "x")

    # Nothing the live key store yields under the live master key decrypts the copied blob.
    copied_blob = blob_path(backup, "A1", "x")
    _undecryptable(copied_blob, all_keys(live, master_key), "A1", "x")

    # The copied wrapped data key does not open under the live archive key, whatever context.
    live_archives, _ = keystore_rows(live)
    assert live_archives["A1"][0] == old_archives["A1"][0] + 1
    live_a1 = dict(all_keys(live, master_key))["archive key A1"]
    for generation in range(0, live_archives["A1"][0] + 2):
        with pytest.raises(UnwrapFailed):
            unwrap(live_a1, old_objects[("A1", "x")], data_key_context("A1", "x", generation))

    # No live key-store file still holds the superseded archive key or the shredded data key.
    raw = _live_key_files(live)
    assert old_archives["A1"][1] not in raw
    assert old_objects[("A1", "x")] not in raw

    # Neighbours copied in the backup still decrypt with the live keys.
    for archive_id, object_id in [("A1", "y"), ("A1", "z"), ("A2", "w")]:
        path = blob_path(live, archive_id, object_id)
        path.unlink()
        shutil.copyfile(blob_path(backup, archive_id, object_id), path)
        assert store.read_bytes(archive_id, object_id) == contents[(archive_id, object_id)]


def test_backup_key_store_plus_master_key_is_the_documented_limit(
    populated, master_key: bytes
) -> None:
    """A pre-shred copy of the key store still opens under the master key current when it was
    taken; rotating the master key (and destroying the old one) closes that too."""
    store, backup, contents = populated
    store.shred_object("A1", "x")
    copied_blob = blob_path(backup, "A1", "x")

    still_open = dict(all_keys(backup, master_key))["data key A1/x"]
    assert decrypt_with(copied_blob, still_open, "A1", "x") == contents[("A1", "x")]

    new_master = generate_master_key()
    store.rotate_master_key(new_master)
    del master_key  # the operator destroys the old master key everywhere

    assert all_keys(backup, new_master) == []  # the copied key store is dead
    _undecryptable(copied_blob, all_keys(store.root, new_master), "A1", "x")
    for archive_id, object_id in [("A1", "y"), ("A1", "z"), ("A2", "w")]:
        assert (
            decrypt_with(
                blob_path(backup, archive_id, object_id),
                dict(all_keys(store.root, new_master))[f"data key {archive_id}/{object_id}"],
                archive_id,
                object_id,
            )
            == contents[(archive_id, object_id)]
        )


def test_shred_archive_defeats_a_prior_backup(populated, master_key: bytes) -> None:
    store, backup, contents = populated
    live = store.root
    old_archives, old_objects = keystore_rows(backup)

    store.shred_archive("A1")

    assert not (live / "blobs" / "A1").exists()
    assert not store.archive_exists("A1")
    with pytest.raises(ArchiveShredded):
        store.read_bytes("A1", "y")
    with pytest.raises(ArchiveShredded):
        store.create_archive("A1")
    with pytest.raises(ArchiveShredded):
        store.put("A1", b"new")

    live_keys = all_keys(live, master_key)
    assert [name for name, _ in live_keys if "A1" in name] == []
    for object_id in ("x", "y", "z"):
        _undecryptable(blob_path(backup, "A1", object_id), live_keys, "A1", object_id)
    raw = _live_key_files(live)
    assert old_archives["A1"][1] not in raw
    for (archive_id, _), wrapped in old_objects.items():
        assert (wrapped in raw) == (archive_id == "A2")

    # The other archive is untouched and its backup copy still decrypts with live keys.
    path = blob_path(live, "A2", "w")
    path.unlink()
    shutil.copyfile(blob_path(backup, "A2", "w"), path)
    assert store.read_bytes("A2", "w") == contents[("A2", "w")]

    # The documented limit, and how master key rotation closes it.
    assert "archive key A1" in dict(all_keys(backup, master_key))
    new_master = generate_master_key()
    store.rotate_master_key(new_master)
    assert all_keys(backup, new_master) == []
    assert store.read_bytes("A2", "w") == contents[("A2", "w")]


def test_ordinary_delete_does_not_rotate(populated, master_key: bytes) -> None:
    store, backup, contents = populated
    before, _ = keystore_rows(store.root)
    store.delete("A1", "y")
    after, _ = keystore_rows(store.root)
    assert after["A1"] == before["A1"]
    assert not store.exists("A1", "y")
    assert not blob_path(store.root, "A1", "y").exists()
    with pytest.raises(ObjectNotFound) as caught:
        store.read_bytes("A1", "y")
    assert not isinstance(caught.value, ObjectShredded)
    # A delete is not a shred: the live archive key still opens the backup's data key.
    live_a1 = dict(all_keys(store.root, master_key))["archive key A1"]
    _, old_objects = keystore_rows(backup)
    generation = after["A1"][0]
    key = unwrap(live_a1, old_objects[("A1", "y")], data_key_context("A1", "y", generation))
    assert decrypt_with(blob_path(backup, "A1", "y"), key, "A1", "y") == contents[("A1", "y")]


def test_shred_objects_batch_rotates_once_and_keeps_survivors(store: BlobStore) -> None:
    contents = {store.put("A1", os.urandom(100)).object_id: None for _ in range(120)}
    ids = list(contents)
    for object_id in ids:
        contents[object_id] = store.read_bytes("A1", object_id)
    before, _ = keystore_rows(store.root)

    shredded = store.shred_objects("A1", ids[:80])

    assert shredded == ids[:80]
    after, _ = keystore_rows(store.root)
    assert after["A1"][0] == before["A1"][0] + 1
    assert {info.object_id for info in store.iter_objects()} == set(ids[80:])
    for object_id in ids[80:]:
        assert store.read_bytes("A1", object_id) == contents[object_id]
    # Retrying the same batch is a no-op and shreds nothing new.
    assert store.shred_objects("A1", ids[:80]) == []
    assert keystore_rows(store.root)[0]["A1"][0] == after["A1"][0]


def test_shred_batch_with_an_unknown_id_changes_nothing(store: BlobStore) -> None:
    a = store.put("A1", b"a").object_id
    with pytest.raises(ObjectNotFound) as caught:
        store.shred_objects("A1", [a, "no-such-object"])
    assert caught.value.object_id == "no-such-object"
    assert store.read_bytes("A1", a) == b"a"
    store.shred_object("A1", a)
    store.shred_object("A1", a)  # twice is fine
    with pytest.raises(ObjectShredded):
        store.delete("A1", a)


def test_shredded_and_deleted_ids_are_never_reused(store: BlobStore) -> None:
    from storage import ObjectExists

    store.put("A1", b"1", object_id="one")
    store.put("A1", b"2", object_id="two")
    store.shred_object("A1", "one")
    store.delete("A1", "two")
    for object_id in ("one", "two"):
        with pytest.raises(ObjectExists):
            store.put("A1", b"again", object_id=object_id)


def test_shred_archive_twice_is_a_no_op(store: BlobStore) -> None:
    store.put("A1", b"x")
    store.shred_archive("A1")
    store.shred_archive("A1")
    assert list(store.iter_objects()) == []
