"""The instance's private temporary folder: where decrypted content may touch the disk.

Contract: ``process_folder(home)`` is this process's own folder, ``<home>/tmp/<host>-<pid>``,
created with mode 0700 (and ``<home>/tmp`` too), the only place where extraction writes
decrypted originals and Tesseract's page images and outputs; each piece of work makes its
own subfolder there and removes it when it ends. ``sweep(home)`` removes the folders of
processes of this host that are gone (a worker killed with SIGKILL never cleans up after
itself), and is called when a worker starts. Folders of other hosts sharing the instance
folder are left to those hosts' workers.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

__all__ = ["process_folder", "sweep"]


def _root(home: Path) -> Path:
    root = home / "tmp"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(root, 0o700)  # also when an older instance made it with the default mode
    return root


def _host() -> str:
    return socket.gethostname().replace("-", "_") or "host"


def process_folder(home: Path) -> Path:
    folder = _root(home) / f"{_host()}-{os.getpid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def sweep(home: Path) -> list[Path]:
    """Remove the folders of this host's processes that no longer run; return them."""
    removed = []
    prefix = f"{_host()}-"
    for folder in _root(home).iterdir():
        pid = folder.name[len(prefix) :]
        if not folder.name.startswith(prefix) or not pid.isdigit():
            continue
        if int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
