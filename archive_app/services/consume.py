"""The watched intake folder: files dropped into ``DIR/ARCHIVE_NUMBER/`` (or
``DIR/ARCHIVE_NUMBER/CLASS_CODE/``) are filed into that archive and removed.

Contract:

- A file is taken once it is complete: its size and modification time unchanged for the
  settle time (:class:`archive_app.infra.folder_watch.Settler`). Names starting with ``.``
  are skipped (a scanner's or a copy's temporary file), and so is ``DIR/.rejected/``.
- It is filed through the same intake as uploads and ``archive import``
  (:func:`archive_app.services.intake.take_in`), as the consume user, audited as the
  import is; the filing's audit entry also names the file's path in the folder
  (``consumed_from``).
- **Order, so that nothing is lost when the process is killed at any moment:** the intake
  stores the encrypted copy and commits the document; only then is the source removed.
  Killed before the commit, the file is still in the folder (and recovery deletes the
  stored copy without a row). Killed after it, the file is still in the folder *and*
  filed: the next pass finds a document of that archive with the same SHA-256 whose filing
  was consumed from the same path, and removes the file instead of filing it twice.
- A file the intake refuses (unsupported type, too large, a duplicate of another filing,
  ...), or one in an unknown archive or class, or anywhere else in the tree, moves to
  ``DIR/.rejected/NAME`` with ``NAME.reason.txt`` beside it (the reason is written first,
  so a kill in between leaves the file in place to be tried again). A name already taken
  in ``.rejected`` gets ``-2``, ``-3``, ... before its extension.
- One consumer per folder: :func:`run` holds an exclusive lock on ``DIR/.consume.lock``
  and refuses to start while another process holds it.
- An error that is not the file's fault (the database unreachable) leaves the file where
  it is, to be tried at the next pass.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive_app.errors import AppError, ConsumeFolderBusy
from archive_app.infra.container import Container
from archive_app.infra.folder_watch import Settler, Stamp, watch
from archive_app.models import AuditEntry, CustomerArchive, Document, User
from archive_app.permissions import Capability, require
from archive_app.services.intake import IntakeItem, sha256_of, take_in
from archive_app.services.users import get_user

log = logging.getLogger(__name__)

REJECTED = ".rejected"
LOCK = ".consume.lock"


@dataclass(frozen=True)
class Arrival:
    """A file found in the folder, and where its place says it belongs."""

    path: Path
    relative: str  # "KH-000001/invoice/scan.pdf"
    archive: str | None
    class_code: str | None
    misplaced: str | None = None  # why its place names no archive, if it does not


@dataclass(frozen=True)
class Event:
    """One line of progress: ``filed``, ``removed`` (already filed) or ``rejected``."""

    outcome: str
    file: str
    document: str | None = None
    reason: str | None = None

    def line(self) -> str:
        if self.outcome == "filed":
            return f"filed     {self.file} → {self.document}"
        if self.outcome == "removed":
            return f"removed   {self.file}: already filed as {self.document}"
        return f"rejected  {self.file}: {self.reason}"


def service_user(session: Session, username: str) -> User:
    """The consume user, checked: it exists, is active and may file documents (an
    archivist or admin)."""
    user = get_user(session, username)
    require(user, Capability.FILE_DOCUMENTS)
    return user


def arrivals(folder: Path) -> Iterator[Arrival]:
    """Every visible regular file of the tree (symbolic links count as misplaced: the
    folder takes files, not pointers to files elsewhere)."""
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_symlink():
            yield Arrival(path, str(relative), None, None, "a symbolic link is not taken")
        elif path.is_file():
            yield _placed(path, relative)


def _placed(path: Path, relative: Path) -> Arrival:
    parts = relative.parts
    if len(parts) == 2:
        return Arrival(path, str(relative), parts[0], None)
    if len(parts) == 3:
        return Arrival(path, str(relative), parts[0], parts[1])
    return Arrival(
        path,
        str(relative),
        None,
        None,
        "put files in a folder named after the archive number "
        "(ARCHIVE_NUMBER/ or ARCHIVE_NUMBER/CLASS_CODE/)",
    )


def consume_one(container: Container, actor_id: int, folder: Path, arrival: Arrival) -> Event:
    """File, remove or reject one complete file (see the module's contract)."""
    if arrival.misplaced is not None or arrival.archive is None:
        return _reject(folder, arrival, arrival.misplaced or "no archive")
    digest = sha256_of(arrival.path)
    earlier = _filed_from_here(container, arrival, digest)
    if earlier is not None:
        arrival.path.unlink()
        return Event("removed", arrival.relative, document=earlier)
    item = IntakeItem(
        path=arrival.path,
        filename=arrival.path.name,
        class_code=arrival.class_code,
        origin=arrival.relative,
    )
    try:
        [result] = take_in(container, actor_id, arrival.archive, [item])
    except AppError as error:  # an unknown (or hidden) archive, an unknown class
        return _reject(folder, arrival, str(error))
    if result.status == "queued":
        arrival.path.unlink()
        return Event("filed", arrival.relative, document=result.document)
    return _reject(folder, arrival, result.error or result.status)


def _filed_from_here(container: Container, arrival: Arrival, digest: str) -> str | None:
    """The document this very file became in a pass killed before it removed the file."""
    with container.database.session() as session:
        number = session.scalar(
            select(Document.number)
            .join(CustomerArchive, Document.archive_id == CustomerArchive.id)
            .where(CustomerArchive.number == arrival.archive, Document.sha256 == digest)
        )
        if number is None:
            return None
        origin = AuditEntry.after["consumed_from"].as_string()
        filing = session.scalar(
            select(AuditEntry.seq).where(
                AuditEntry.action == "document.create",
                AuditEntry.object_id == number,
                origin == arrival.relative,
            )
        )
        return number if filing is not None else None


def _reject(folder: Path, arrival: Arrival, reason: str) -> Event:
    rejected = folder / REJECTED
    rejected.mkdir(exist_ok=True)
    target = _free_name(rejected, arrival.path.name)
    note = target.with_name(target.name + ".reason.txt")
    partial = note.with_name("." + note.name + ".part")
    partial.write_text(f"{arrival.relative}\n{reason}\n", encoding="utf-8")
    partial.replace(note)
    os.replace(arrival.path, target)
    return Event("rejected", arrival.relative, reason=reason)


def _free_name(folder: Path, name: str) -> Path:
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    count = 1
    while candidate.exists() or candidate.with_name(candidate.name + ".reason.txt").exists():
        count += 1
        candidate = folder / f"{stem}-{count}{suffix}"
    return candidate


def _stamps(folder: Path) -> dict[Path, Stamp]:
    stamps: dict[Path, Stamp] = {}
    for arrival in arrivals(folder):
        try:
            info = arrival.path.lstat()
        except FileNotFoundError:
            continue
        stamps[arrival.path] = (info.st_size, info.st_mtime_ns)
    return stamps


@contextmanager
def _only_consumer(folder: Path) -> Iterator[None]:
    with (folder / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConsumeFolderBusy(folder) from None
        yield


def run(
    container: Container,
    username: str,
    folder: Path,
    *,
    on_event: Callable[[Event], None],
    on_start: Callable[[str], None] | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Watch ``folder`` and consume what arrives until ``keep_going`` answers False
    (asked at every pass) or the process is interrupted."""
    settings = container.settings
    with container.database.session() as session:
        actor_id = service_user(session, username).id
    folder.mkdir(parents=True, exist_ok=True)
    settler = Settler(settings.consume_settle_seconds)
    wake = threading.Event()
    with (
        _only_consumer(folder),
        watch(folder, wake, poll_seconds=settings.consume_rescan_seconds) as kind,
    ):
        if on_start is not None:
            on_start(kind)
        while keep_going():
            wake.clear()
            for path in settler.ready(_stamps(folder)):
                settler.forget(path)
                _consume_path(container, actor_id, folder, path, on_event)
            pause = (
                settings.consume_settle_seconds / 2
                if settler.waiting
                else settings.consume_rescan_seconds
            )
            wake.wait(pause)


def _consume_path(
    container: Container,
    actor_id: int,
    folder: Path,
    path: Path,
    on_event: Callable[[Event], None],
) -> None:
    relative = path.relative_to(folder)
    arrival = (
        _placed(path, relative)
        if not path.is_symlink()
        else Arrival(path, str(relative), None, None, "a symbolic link is not taken")
    )
    try:
        event = consume_one(container, actor_id, folder, arrival)
    except FileNotFoundError:
        return  # taken away meanwhile
    except (SQLAlchemyError, OSError) as error:
        log.warning("%s left for the next pass: %s", arrival.relative, error)
        return
    on_event(event)
