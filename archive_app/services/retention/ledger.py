"""The destruction ledger's files: one copy in the instance folder, one outside it.

Contract: entry N of the ledger (the signed bytes of :func:`retention.sign_entry`, kept in
its ``destruction_plans`` row) is the file ``<folder>/<N as 8 digits>.json`` in every
ledger folder: ``<home>/ledger`` and, when ``ARCHIVE_LEDGER_DIR`` is set
(``Settings.ledger_dir``), that folder too. A file is created once, atomically (written
and synced under a temporary name, then linked to its own, never replacing anything) and
never rewritten: writing an entry that is already there with the same bytes does nothing,
with other bytes raises :class:`LedgerDiverged`. A folder that cannot be written raises
:class:`LedgerUnwritable`. A destruction calls :func:`check_writable` before it commits
its decision and :func:`write_entry` before it shreds anything, so no key is destroyed
that the ledger does not name, in both places.

:func:`read_folder` reads a ledger folder and verifies every entry's signature against
a pinned public key and the chain from the first entry (``retention.LedgerInvalid``
otherwise); a restore replays what it finds there.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path

from archive_app.infra.config import Settings
from archive_app.infra.private_files import FILE_MODE, FOLDER_MODE
from archive_app.services.retention.errors import LedgerDiverged, LedgerUnwritable
from retention import LedgerEntry, LedgerInvalid, check_chain, read_entry
from storage.backup import fsync_dir

_ENTRY_FILE = re.compile(r"(\d{8})\.json")


def instance_folder(settings: Settings) -> Path:
    return settings.home / "ledger"


def folders(settings: Settings) -> list[Path]:
    """Where every entry is written: the instance folder's copy, then the second one."""
    return [instance_folder(settings), *([settings.ledger_dir] if settings.ledger_dir else [])]


def entry_name(seq: int) -> str:
    return f"{seq:08d}.json"


def ensure_folders(settings: Settings) -> list[Path]:
    """Create the ledger folders that do not exist yet; returns those created."""
    created = []
    for folder in folders(settings):
        if folder.is_dir():
            continue
        try:
            folder.mkdir(parents=True, mode=FOLDER_MODE)
        except OSError as error:
            raise LedgerUnwritable(str(folder), error.strerror or str(error)) from None
        created.append(folder)
    return created


def check_writable(settings: Settings, seq: int) -> None:
    """Every ledger folder can take entry ``seq`` (and holds no other entry ``seq``)."""
    ensure_folders(settings)
    for folder in folders(settings):
        try:
            probe = folder / f".probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            raise LedgerUnwritable(str(folder), error.strerror or str(error)) from None
        if (folder / entry_name(seq)).exists():
            raise LedgerDiverged(str(folder / entry_name(seq)))


def write_entry(settings: Settings, seq: int, data: bytes) -> None:
    """Write entry ``seq`` into every ledger folder (idempotent, see the module doc)."""
    ensure_folders(settings)
    for folder in folders(settings):
        try:
            _write_once(folder, entry_name(seq), data)
        except OSError as error:
            raise LedgerUnwritable(str(folder), error.strerror or str(error)) from None


def _write_once(folder: Path, name: str, data: bytes) -> None:
    final = folder / name
    if final.exists():
        if final.read_bytes() != data:
            raise LedgerDiverged(str(final))
        return
    temporary = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    try:
        with os.fdopen(
            os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb"
        ) as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, final)
        except FileExistsError:  # another process wrote it first: it must be the same entry
            if final.read_bytes() != data:
                raise LedgerDiverged(str(final)) from None
    finally:
        temporary.unlink(missing_ok=True)
    fsync_dir(folder)


def read_folder(folder: Path, public_key: bytes) -> list[LedgerEntry]:
    """Every entry of the ledger in ``folder``, verified (``LedgerInvalid`` otherwise)."""
    entries = []
    for path in sorted(folder.iterdir()):
        match = _ENTRY_FILE.fullmatch(path.name)
        if match is None:
            continue
        entry = read_entry(path.read_bytes(), public_key)
        if entry.seq != int(match.group(1)):
            raise LedgerInvalid(entry.seq, f"stored as {path.name}")
        entries.append(entry)
    check_chain(entries)
    return entries


def write_entries(settings: Settings, entries: Iterable[tuple[int, bytes]]) -> None:
    """Write several entries, ``(seq, bytes)``, into every ledger folder, creating them (a
    restored instance gets its whole ledger back)."""
    ensure_folders(settings)
    for seq, data in entries:
        write_entry(settings, seq, data)
