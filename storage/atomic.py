"""Crash-safe file writes: temporary file, fsync, rename (or link), fsync the directory.

Contract: a file published through this module is either absent or complete after a crash at
any point. Temporaries are named ``.<anything>.tmp`` and are held under an exclusive ``flock``
while their writer lives; the kernel drops the lock when the writer dies, so a sweeper can
tell an orphan (lock free) from a write in progress in another process (lock held) without
guessing from timestamps or pids.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

TEMP_SUFFIX = ".tmp"
# Written data is handed to the disk in steps of this size while the writer goes on.
WRITEBACK_STEP = 8 * 1024 * 1024


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):  # not Linux
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_SYNC_FILE_RANGE_WRITE = 2


def start_writeback(fd: int, start: int, end: int) -> None:
    """Ask the kernel to start writing bytes ``start..end`` of ``fd`` to the device now.

    Linux's ``sync_file_range(SYNC_FILE_RANGE_WRITE)``: it does not wait and guarantees
    nothing (``sync`` still does); elsewhere it does nothing. Only a performance hint.
    """
    function = _sync_file_range()
    if function is not None:
        function(fd, start, end - start, _SYNC_FILE_RANGE_WRITE)


def fsync_dir(path: Path) -> None:
    """Make a rename, link or unlink inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(path: Path, mode: int = 0o700) -> None:
    """Create ``path`` (and parents) and make the new entries durable."""
    if path.is_dir():
        return
    ensure_dir(path.parent, mode)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, mode)
    fsync_dir(path.parent)


class AtomicFile:
    """A temporary file in ``temp_dir`` that becomes ``final`` only on :meth:`publish`.

    The temporary lives in the same filesystem as the final path so publishing is a link
    (no clobber) or a rename, both atomic. Use as a context manager: leaving the block
    without publishing removes the temporary.
    """

    def __init__(self, temp_dir: Path, stem: str, mode: int = 0o600) -> None:
        self.path = temp_dir / f".{stem}.{secrets.token_hex(8)}{TEMP_SUFFIX}"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        # Held until close; tells sweep_temporaries that this writer is alive. A sweep that
        # slips in before the lock removes the name, and publishing then fails loudly with
        # FileNotFoundError: never a silent loss.
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._written = 0
        self._handed_to_disk = 0

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            view = view[written:]
            self._written += written
        if self._written - self._handed_to_disk >= WRITEBACK_STEP:
            # Without this the kernel keeps a large object's pages dirty until sync(), and
            # the whole device write happens after the CPU work instead of beside it.
            start_writeback(self._file.fileno(), self._handed_to_disk, self._written)
            self._handed_to_disk = self._written

    def sync(self) -> None:
        """Make the written data durable (before it is given its final name)."""
        os.fsync(self._file.fileno())

    def link(self, final: Path) -> None:
        """Give the synced data its final name without replacing an existing file.

        Not yet durable: fsync ``final.parent`` afterwards (once per folder for a batch).
        An existing ``final`` raises ``FileExistsError`` and the temporary stays for
        ``close`` to remove. The temporary's own unlink is not fsynced: if a crash undoes
        it, the temporary reappears without a lock and the next sweep removes it.
        """
        os.link(self.path, final)
        os.unlink(self.path)

    def publish(self, final: Path, *, overwrite: bool = False) -> None:
        """fsync the data, move it to ``final``, fsync the directory.

        With ``overwrite=False`` an existing ``final`` raises ``FileExistsError`` and the
        temporary is left for the context manager to remove.
        """
        self.sync()
        if overwrite:
            os.rename(self.path, final)
        else:
            self.link(final)
        fsync_dir(final.parent)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        # After a link or rename the temporary name is already gone; otherwise remove it.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_file_atomic(path: Path, data: bytes, *, mode: int = 0o600, overwrite: bool) -> None:
    """Write a small file whole, crash-safely, next to its final path."""
    with AtomicFile(path.parent, path.name, mode) as tmp:
        tmp.write(data)
        tmp.publish(path, overwrite=overwrite)


def sweep_temporaries(directory: Path) -> int:
    """Remove temporaries in ``directory`` whose writer is gone; return how many.

    A temporary whose lock is still held belongs to a live writer (maybe in another
    process) and is left alone.
    """
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX)):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += 1
        finally:
            os.close(fd)
    if removed:
        fsync_dir(directory)
    return removed
