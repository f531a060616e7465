"""StreamDigest gives hashlib's SHA-256 for small and large streams, inline or threaded."""

from __future__ import annotations

import hashlib
import os

import pytest

from storage import digest as digest_module
from storage.digest import StreamDigest


@pytest.mark.parametrize("total", [0, 1, 4096, digest_module.THREAD_AFTER - 1, 9 * 2**20 + 7])
def test_same_result_as_hashlib(total: int):
    data = os.urandom(total)
    expected = hashlib.sha256(data).hexdigest()
    streamed = StreamDigest()
    view = memoryview(data)
    for start in range(0, total, 256 * 1024 - 3):
        streamed.update(view[start : start + 256 * 1024 - 3])
    assert streamed.hexdigest() == expected


def test_large_stream_moves_to_a_helper_thread_and_stops_it():
    streamed = StreamDigest()
    piece = b"x" * (1024 * 1024)
    for _ in range(6):
        streamed.update(piece)
    assert streamed._thread is not None and streamed._thread.is_alive()
    assert streamed.hexdigest() == hashlib.sha256(piece * 6).hexdigest()
    assert streamed._thread is None
    streamed.close()  # idempotent


def test_an_error_in_the_thread_is_raised_by_hexdigest():
    streamed = StreamDigest()
    for _ in range(5):
        streamed.update(b"y" * (1024 * 1024))
    streamed.update("not bytes")
    with pytest.raises(TypeError):
        streamed.hexdigest()
