"""Write batches on a background thread while the caller prepares the next ones.

Contract: ``BackgroundWriter(write)`` is a context manager; ``submit(batch)`` hands a batch
to one writer thread that calls ``write(batch)`` in submission order. At most ``depth``
batches wait, so memory stays bounded and a slow writer slows the producer down. The first
exception raised by ``write`` is re-raised in the caller, by the next ``submit`` or at the
end of the ``with`` block; batches submitted after a failure are not written. Leaving the
block (normally or by an exception) waits for the thread, so every batch that will be
written has been written when the block ends.

Why: indexing alternates CPU work in this process and its analysis workers (tokenising,
building rows) with waiting on the database; on one thread the workers idle while the
database ingests a batch. Drivers release the interpreter lock while they wait on the
socket, so one extra thread overlaps the two.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar

__all__ = ["BackgroundWriter"]

T = TypeVar("T")
_STOP = object()


class BackgroundWriter(Generic[T]):
    def __init__(self, write: Callable[[T], Any], *, depth: int = 2) -> None:
        self._write = write
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="index-writer", daemon=True)

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is _STOP:
                return
            if self._error is None:
                try:
                    self._write(batch)
                except BaseException as exc:  # re-raised in the submitting thread
                    self._error = exc

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, batch: T) -> None:
        self._raise_if_failed()
        self._queue.put(batch)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._queue.put(_STOP)
        self._thread.join()
        if exc_type is None:
            self._raise_if_failed()
