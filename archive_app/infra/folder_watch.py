"""Watching a folder tree for files that have finished arriving.

Contract:

- :class:`Settler` is given, at every scan, the ``(size, mtime_ns)`` of each candidate
  file and answers those whose size and modification time have stayed the same for at
  least ``settle`` seconds. A file that changes starts its wait again; a file that is gone
  is forgotten. A scanner or a copy still writing a file keeps changing one of the two, so
  a half-written file is never taken.
- :func:`watch` starts a ``watchdog`` observer on the tree that sets ``wake`` on any change:
  the native one (inotify on Linux) where it can start, else a polling observer (no
  inotify, its watch limit reached, a network file system that sends no events). Callers
  also rescan on a timer, so a missed event only delays a file, never loses it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

log = logging.getLogger(__name__)

Stamp = tuple[int, int]  # (size, mtime_ns)


class Settler:
    def __init__(self, settle: float) -> None:
        self.settle = settle
        self._seen: dict[Path, tuple[Stamp, float]] = {}

    def ready(self, stamps: Mapping[Path, Stamp], now: float | None = None) -> list[Path]:
        """The files of ``stamps`` unchanged for ``settle`` seconds, in the order given."""
        now = time.monotonic() if now is None else now
        for gone in self._seen.keys() - stamps.keys():
            del self._seen[gone]
        done: list[Path] = []
        for path, stamp in stamps.items():
            previous = self._seen.get(path)
            if previous is None or previous[0] != stamp:
                self._seen[path] = (stamp, now)
            elif now - previous[1] >= self.settle:
                done.append(path)
        return done

    @property
    def waiting(self) -> bool:
        """Whether some file is still settling (the caller should look again soon)."""
        return bool(self._seen)

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)


class _Wake(FileSystemEventHandler):
    def __init__(self, wake: threading.Event) -> None:
        self.wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.wake.set()


@contextmanager
def watch(folder: Path, wake: threading.Event, *, poll_seconds: float) -> Iterator[str]:
    """Observe ``folder`` recursively while the block runs; yields the observer's kind
    (``"inotify"``-like native name or ``"polling"``)."""
    observer: BaseObserver
    try:
        observer = Observer()
        observer.schedule(_Wake(wake), str(folder), recursive=True)
        observer.start()
        kind = type(observer).__name__.removesuffix("Observer").lower() or "native"
    except OSError as error:
        log.warning("no file system events for %s (%s): polling instead", folder, error)
        observer = PollingObserver(timeout=poll_seconds)
        observer.schedule(_Wake(wake), str(folder), recursive=True)
        observer.start()
        kind = "polling"
    try:
        yield kind
    finally:
        observer.stop()
        observer.join(timeout=5)
