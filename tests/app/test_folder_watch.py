"""The intake folder's watcher: file system events where the platform gives them, polling
where it does not (no inotify, its watch limit reached, a network file system)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from archive_app.infra import folder_watch


def test_native_events_wake_the_consumer(tmp_path: Path) -> None:
    wake = threading.Event()
    with folder_watch.watch(tmp_path, wake, poll_seconds=0.2) as kind:
        assert kind != "polling"
        (tmp_path / "KH-000001").mkdir()
        (tmp_path / "KH-000001" / "scan.pdf").write_bytes(b"%PDF-1.7")
        assert wake.wait(10)


class _NoEvents:
    """The platform's observer as it fails where inotify's watch limit is reached."""

    def schedule(self, *args: object, **kwargs: object) -> None:
        raise OSError(28, "inotify watch limit reached")


def test_without_file_system_events_the_watcher_polls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folder_watch, "Observer", _NoEvents)
    wake = threading.Event()
    with folder_watch.watch(tmp_path, wake, poll_seconds=0.2) as kind:
        assert kind == "polling"
        assert not wake.wait(0.5)  # nothing changed: the poll stays quiet
        (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.7")
        assert wake.wait(10)  # the polling observer saw the new file
