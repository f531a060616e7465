"""Master key handling: key files, supplied values, wrong keys, no key material in text."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from storage import (
    BlobStore,
    InsecureKeyFile,
    MasterKeyFileExists,
    MasterKeyInvalid,
    MasterKeyMissing,
    WrongMasterKey,
    create_key_file,
    encode_master_key,
    generate_master_key,
    load_key_file,
    parse_master_key,
)
from storage.keys import SecretKey


def test_create_key_file_is_private_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "master.key"
    key = create_key_file(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key_file(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]  # no temporary left


def test_create_key_file_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = create_key_file(path)
    before = path.read_bytes()
    with pytest.raises(MasterKeyFileExists) as caught:
        create_key_file(path)
    with pytest.raises(MasterKeyFileExists):
        create_key_file(path, generate_master_key())
    assert caught.value.path == path
    assert path.read_bytes() == before
    assert load_key_file(path) == first


def test_create_key_file_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(MasterKeyFileExists):
        create_key_file(path)
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_key_file_with_loose_permissions_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "master.key"
    create_key_file(path)
    os.chmod(path, mode)
    with pytest.raises(InsecureKeyFile) as caught:
        load_key_file(path)
    assert caught.value.mode == mode
    assert "chmod 600" in str(caught.value)


def test_read_only_owner_key_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    key = create_key_file(path)
    os.chmod(path, 0o400)
    assert load_key_file(path) == key


def test_raw_32_byte_key_file_is_accepted(tmp_path: Path) -> None:
    key = generate_master_key()
    path = tmp_path / "raw.key"
    path.write_bytes(key)
    os.chmod(path, 0o600)
    assert load_key_file(path) == key


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyMissing, match="does not exist"):
        load_key_file(tmp_path / "absent.key")


def test_parse_master_key_accepts_base64_urlsafe_and_hex() -> None:
    key = generate_master_key()
    assert parse_master_key(encode_master_key(key)) == key
    assert parse_master_key(base64.urlsafe_b64encode(key).decode().rstrip("=")) == key
    assert parse_master_key(key.hex()) == key
    assert parse_master_key(key.hex().upper() + "\n") == key
    assert parse_master_key(encode_master_key(key).encode()) == key


@pytest.mark.parametrize("value", [None, "", "   \n"])
def test_parse_master_key_missing(value: str | None) -> None:
    with pytest.raises(MasterKeyMissing, match="ARCHIVE_MASTER_KEY"):
        parse_master_key(value, source="ARCHIVE_MASTER_KEY")


@pytest.mark.parametrize("value", ["not a key!", base64.b64encode(b"short").decode(), "ab" * 31])
def test_parse_master_key_rejects_malformed_values(value: str) -> None:
    with pytest.raises(MasterKeyInvalid):
        parse_master_key(value)


def test_wrong_master_key_is_refused_at_open_and_changes_nothing(tmp_path: Path) -> None:
    key = generate_master_key()
    with BlobStore.open(tmp_path / "s", key) as store:
        store.create_archive("A1")
        stored = store.put("A1", b"payload")
    before = {p: p.read_bytes() for p in (tmp_path / "s").rglob("*") if p.is_file()}
    with pytest.raises(WrongMasterKey) as caught:
        BlobStore.open(tmp_path / "s", generate_master_key())
    assert caught.value.root == tmp_path / "s"
    after = {p: p.read_bytes() for p in (tmp_path / "s").rglob("*") if p.is_file()}
    assert after == before
    with BlobStore.open(tmp_path / "s", key) as store:
        assert store.read_bytes("A1", stored.object_id) == b"payload"


@pytest.mark.parametrize("bad", [b"", b"x" * 31, b"x" * 33, "a string"])
def test_master_key_of_the_wrong_shape_is_refused(tmp_path: Path, bad: object) -> None:
    with pytest.raises(MasterKeyInvalid):
        BlobStore.open(tmp_path / "s", bad)


def test_no_key_material_in_repr_or_messages(tmp_path: Path) -> None:
    key = generate_master_key()
    store = BlobStore.open(tmp_path / "s", key)
    texts = [repr(store), str(store.__dict__), repr(SecretKey(key)), str(SecretKey(key))]
    texts.append(str(store._keys.__dict__))
    for text in texts:
        assert key.hex() not in text
        assert encode_master_key(key) not in text
        assert repr(key) not in text
    store.close()


def test_store_folders_are_private(tmp_path: Path, master_key: bytes) -> None:
    with BlobStore.open(tmp_path / "s", master_key) as store:
        store.create_archive("A1")
        store.put("A1", b"x")
    for path in [tmp_path / "s" / "keys", tmp_path / "s" / "blobs"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    db = tmp_path / "s" / "keys" / "keystore.sqlite3"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
