"""Exact round trips at every size that matters, in constant memory."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from pathlib import Path

import pytest

from storage import DEFAULT_CHUNK_SIZE, BlobStore, ObjectInfo, StoredObject

from .conftest import SMALL_CHUNK


@pytest.mark.parametrize(
    "size",
    [0, 1, SMALL_CHUNK - 1, SMALL_CHUNK, SMALL_CHUNK + 1, 3 * SMALL_CHUNK, 3 * SMALL_CHUNK + 7],
)
def test_round_trip_around_chunk_boundaries(store: BlobStore, size: int) -> None:
    data = os.urandom(size)
    stored = store.put("A1", io.BytesIO(data))
    assert stored == StoredObject(stored.object_id, hashlib.sha256(data).hexdigest(), size)
    assert store.read_bytes("A1", stored.object_id) == data
    assert store.verify_object("A1", stored.object_id) == stored.sha256_hex


@pytest.mark.parametrize(
    "size", [DEFAULT_CHUNK_SIZE - 1, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE + 1]
)
def test_round_trip_at_default_chunk_size(tmp_path: Path, master_key: bytes, size: int) -> None:
    with BlobStore.open(tmp_path / "store", master_key) as store:
        store.create_archive("A1")
        data = os.urandom(size)
        stored = store.put("A1", data)
        assert store.read_bytes("A1", stored.object_id) == data


def test_every_source_kind_and_reader_interface(store: BlobStore) -> None:
    data = os.urandom(3 * SMALL_CHUNK + 100)
    pieces = [data[i : i + 777] for i in range(0, len(data), 777)]
    ids = [
        store.put("A1", data).object_id,
        store.put("A1", bytearray(data)).object_id,
        store.put("A1", io.BytesIO(data)).object_id,
        store.put("A1", iter(pieces)).object_id,
        store.put("A1", (p for p in [b"", *pieces, b""])).object_id,
    ]
    for object_id in ids:
        with store.open_object("A1", object_id) as reader:
            assert reader.size == len(data)
            head = reader.read(10)
            rest = bytearray()
            while block := reader.read(1000):
                rest += block
            assert head + rest == data
            assert reader.read(5) == b""


def test_chosen_object_id_and_listing(store: BlobStore) -> None:
    store.create_archive("A2")
    store.put("A1", b"one", object_id="KH-000123-HT-2026-0007")
    store.put("A2", b"three", object_id="doc.v1")
    assert store.exists("A1", "KH-000123-HT-2026-0007")
    assert not store.exists("A2", "KH-000123-HT-2026-0007")
    assert list(store.iter_objects()) == [
        ObjectInfo("A1", "KH-000123-HT-2026-0007", 3),
        ObjectInfo("A2", "doc.v1", 5),
    ]


def _generated(total: int, piece: int = 256 * 1024):
    """Deterministic pseudo-random data produced on the fly, never held whole."""
    seed = hashlib.sha256(b"seed").digest()
    block = hashlib.shake_256(seed).digest(piece)
    produced = 0
    counter = 0
    while produced < total:
        n = min(piece, total - produced)
        # Vary each piece so reordered chunks would not compare equal by accident.
        yield counter.to_bytes(8, "big") + block[8:n] if n >= 8 else block[:n]
        produced += n
        counter += 1


def test_fifty_megabytes_streamed_in_constant_memory(tmp_path: Path, master_key: bytes) -> None:
    total = 50 * 1024 * 1024
    expected = hashlib.sha256()
    for piece in _generated(total):
        expected.update(piece)
    with BlobStore.open(tmp_path / "store", master_key) as store:
        store.create_archive("A1")
        tracemalloc.start()
        try:
            stored = store.put("A1", _generated(total))
            _, put_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            digest = hashlib.sha256()
            size = 0
            with store.open_object("A1", stored.object_id) as reader:
                while block := reader.read(64 * 1024):
                    digest.update(block)
                    size += len(block)
            _, get_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert stored.size == size == total
    assert stored.sha256_hex == digest.hexdigest() == expected.hexdigest()
    # A few chunks at most, never anything near the object's 50 MB.
    assert put_peak < 8 * 1024 * 1024, put_peak
    assert get_peak < 8 * 1024 * 1024, get_peak


def test_producer_that_refills_one_buffer(store: BlobStore) -> None:
    """A producer may reuse one bytearray for every piece; what was given is what is stored."""
    data = os.urandom(5 * SMALL_CHUNK + 123)
    expected = hashlib.sha256(data).hexdigest()

    def refilling(piece_size: int):
        buffer = bytearray(piece_size)
        for start in range(0, len(data), piece_size):
            n = len(data[start : start + piece_size])
            buffer[:n] = data[start : start + piece_size]
            yield memoryview(buffer)[:n]
            buffer[:] = b"\xff" * piece_size  # scribble over it once consumed

    for piece_size in (SMALL_CHUNK, SMALL_CHUNK // 3, 2 * SMALL_CHUNK + 5):
        stored = store.put("A1", refilling(piece_size))
        assert stored.sha256_hex == expected
        assert store.read_bytes("A1", stored.object_id) == data
