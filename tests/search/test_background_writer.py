"""The background writer: order, bounded depth, errors re-raised in the caller."""

from __future__ import annotations

import threading

import pytest

from indexing.search.background_writer import BackgroundWriter


def test_batches_are_written_in_order_before_the_block_ends():
    written: list[int] = []
    with BackgroundWriter(written.append) as writer:
        for n in range(50):
            writer.submit(n)
    assert written == list(range(50))


def test_write_failure_is_raised_and_later_batches_are_not_written():
    written: list[int] = []

    def write(n: int) -> None:
        if n == 3:
            raise ValueError("database refused batch 3")
        written.append(n)

    with pytest.raises(ValueError, match="batch 3"), BackgroundWriter(write) as writer:
        for n in range(100):
            writer.submit(n)
    assert written == [0, 1, 2]


def test_producer_waits_when_the_writer_is_behind():
    release = threading.Event()
    started = threading.Event()

    def write(_n: int) -> None:
        started.set()
        release.wait(10)

    with BackgroundWriter(write, depth=1) as writer:
        writer.submit(0)
        started.wait(10)
        writer.submit(1)  # fills the queue
        blocked = threading.Thread(target=writer.submit, args=(2,))
        blocked.start()
        blocked.join(0.2)
        assert blocked.is_alive()  # no room: the producer waits
        release.set()
        blocked.join(10)
        assert not blocked.is_alive()


def test_exception_in_the_block_stops_the_writer_and_propagates():
    written: list[int] = []
    with (
        pytest.raises(RuntimeError, match="analysis failed"),
        BackgroundWriter(written.append) as writer,
    ):
        writer.submit(1)
        raise RuntimeError("analysis failed")
    assert written == [1]
