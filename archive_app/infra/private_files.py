"""The instance folder is private to the account that runs the product.

Contract: every process of the product runs with umask 0077 (:func:`private_umask`, called
by the CLI entry point and the app factory), so whatever it creates in the instance —
SQLite database and its WAL, broker file, search index, keys, blobs, certificates — is
0600 (folders 0700). :func:`secure_instance` brings an existing instance to the same modes
(``archive init`` runs it, so upgrading an instance made before this rule fixes it) and
:func:`write_private_file` creates one 0600 file that never replaces another.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
FOLDER_MODE = 0o700  # for folders created here explicitly


def private_umask() -> None:
    os.umask(PRIVATE_UMASK)


def write_private_file(path: Path, content: bytes) -> None:
    """Create ``path`` with mode 0600, refusing to replace an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)


def secure_instance(home: Path) -> int:
    """Take group and other access away from everything in the instance folder (symbolic
    links are not followed); returns how many files and folders were changed."""
    changed = 0
    for folder, _folders, files in os.walk(home):
        changed += _restrict(Path(folder))
        changed += sum(_restrict(Path(folder) / name) for name in files)
    return changed


def _restrict(path: Path) -> int:
    try:
        info = path.lstat()
    except FileNotFoundError:  # removed while walking (a WAL checkpoint, a temp file)
        return 0
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode) or mode & 0o077 == 0:
        return 0
    os.chmod(path, mode & 0o700)
    return 1
