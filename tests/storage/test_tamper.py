"""Every kind of damage is detected, and no unauthenticated byte ever reaches the reader."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from storage import BlobMissing, BlobStore, IntegrityError
from storage.format import HEADER, TAG_BYTES

from .conftest import SMALL_CHUNK, blob_path

BLOCK = SMALL_CHUNK + TAG_BYTES
H = HEADER.size
DATA = os.urandom(3 * SMALL_CHUNK + 1000)  # four chunks, the last one short


def _flip(offset: int) -> Callable[[bytearray], None]:
    def damage(raw: bytearray) -> None:
        raw[offset] ^= 0x01

    return damage


def _swap_first_two_chunks(raw: bytearray) -> None:
    first, second = raw[H : H + BLOCK], raw[H + BLOCK : H + 2 * BLOCK]
    raw[H : H + 2 * BLOCK] = second + first


def _drop_last_chunk(raw: bytearray) -> None:
    del raw[H + 3 * BLOCK :]


def _truncate_mid_chunk(raw: bytearray) -> None:
    del raw[H + BLOCK + 100 :]


def _truncate_to_header(raw: bytearray) -> None:
    del raw[H:]


def _truncate_inside_header(raw: bytearray) -> None:
    del raw[H - 3 :]


def _append_garbage(raw: bytearray) -> None:
    raw += os.urandom(50)


def _duplicate_a_chunk(raw: bytearray) -> None:
    raw[H + BLOCK : H + BLOCK] = raw[H : H + BLOCK]


def _empty(raw: bytearray) -> None:
    raw.clear()


DAMAGE = {
    "flip magic": _flip(0),
    "flip version": _flip(4),
    "flip flags": _flip(5),
    "flip chunk size": _flip(10),
    "flip nonce prefix": _flip(15),
    "flip body of first chunk": _flip(H + 5),
    "flip body of last chunk": _flip(H + 3 * BLOCK + 3),
    "flip tag of second chunk": _flip(H + 2 * BLOCK - 1),
    "flip tag of last chunk": _flip(-1),
    "swap two chunks": _swap_first_two_chunks,
    "drop the last chunk": _drop_last_chunk,
    "truncate mid chunk": _truncate_mid_chunk,
    "truncate to the header": _truncate_to_header,
    "truncate inside the header": _truncate_inside_header,
    "append bytes": _append_garbage,
    "duplicate a chunk": _duplicate_a_chunk,
    "empty file": _empty,
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_damage_is_detected(store: BlobStore, damage: Callable[[bytearray], None]) -> None:
    stored = store.put("A1", DATA)
    path = blob_path(store.root, "A1", stored.object_id)
    raw = bytearray(path.read_bytes())
    damage(raw)
    path.write_bytes(raw)
    with pytest.raises(IntegrityError) as caught:
        store.verify_object("A1", stored.object_id)
    assert caught.value.object_id == stored.object_id
    assert caught.value.archive_id == "A1"
    assert stored.object_id in str(caught.value)
    with pytest.raises(IntegrityError):
        store.read_bytes("A1", stored.object_id)


@pytest.mark.parametrize(
    ("damage", "good_chunks"),
    [(_flip(H + 2 * BLOCK + 7), 2), (_drop_last_chunk, 2), (_swap_first_two_chunks, 0)],
    ids=["flip in third chunk", "drop last chunk", "swap chunks"],
)
def test_stream_yields_only_authentic_bytes_then_raises(
    store: BlobStore, damage: Callable[[bytearray], None], good_chunks: int
) -> None:
    stored = store.put("A1", DATA)
    path = blob_path(store.root, "A1", stored.object_id)
    raw = bytearray(path.read_bytes())
    damage(raw)
    path.write_bytes(raw)
    received = bytearray()
    with (
        pytest.raises(IntegrityError),
        store.open_object("A1", stored.object_id) as reader,
    ):
        while block := reader.read(1000):
            received += block
    # Everything handed out before the error is the genuine prefix, chunk by chunk.
    assert bytes(received) == DATA[: good_chunks * SMALL_CHUNK]


def test_blob_copied_over_another_objects_path(store: BlobStore) -> None:
    a = store.put("A1", b"contract A" * 1000)
    b = store.put("A1", b"contract B" * 1000)
    shutil.copyfile(
        blob_path(store.root, "A1", a.object_id), blob_path(store.root, "A1", b.object_id)
    )
    with pytest.raises(IntegrityError) as caught:
        store.read_bytes("A1", b.object_id)
    assert caught.value.object_id == b.object_id
    assert store.read_bytes("A1", a.object_id) == b"contract A" * 1000


def test_blob_copied_to_another_archive_under_the_same_object_id(store: BlobStore) -> None:
    store.create_archive("A2")
    store.put("A1", b"customer one" * 500, object_id="same-id")
    store.put("A2", b"customer two" * 500, object_id="same-id")
    shutil.copyfile(blob_path(store.root, "A1", "same-id"), blob_path(store.root, "A2", "same-id"))
    with pytest.raises(IntegrityError) as caught:
        store.verify_object("A2", "same-id")
    assert (caught.value.archive_id, caught.value.object_id) == ("A2", "same-id")


def test_wrapped_data_key_swapped_between_rows_is_detected(store: BlobStore) -> None:
    import sqlite3

    a = store.put("A1", b"a" * 10)
    b = store.put("A1", b"b" * 10)
    db = store.root / "keys" / "keystore.sqlite3"
    conn = sqlite3.connect(db)
    with conn:
        (wrapped_a,) = conn.execute(
            "SELECT wrapped_key FROM objects WHERE object_id = ?", (a.object_id,)
        ).fetchone()
        conn.execute(
            "UPDATE objects SET wrapped_key = ? WHERE object_id = ?", (wrapped_a, b.object_id)
        )
    conn.close()
    with pytest.raises(IntegrityError) as caught:
        store.read_bytes("A1", b.object_id)
    assert "data key" in caught.value.reason


def test_missing_blob_file_is_an_integrity_error(store: BlobStore) -> None:
    stored = store.put("A1", b"x")
    Path(blob_path(store.root, "A1", stored.object_id)).unlink()
    with pytest.raises(IntegrityError, match="missing") as caught:
        store.verify_object("A1", stored.object_id)
    # Typed, so an inspection can report "missing" rather than "damaged".
    assert isinstance(caught.value, BlobMissing)
