"""Archive export for handover (移交): one ZIP package of a customer archive.

Contract of :func:`export_archive`:

- Only compliance users and admins (``Capability.EXPORT_ARCHIVE``) who may see the archive;
  when an erasure request restricts the archive's records, only a user who may open them
  (compliance). Refusals are raised before anything is read.
- The package holds, per document, ``documents/<number>/original<suffix>`` (the original as
  filed) and ``documents/<number>/searchable.pdf`` (when one was built); a destroyed record
  appears only as its stub ``documents/<number>/stub.json`` (its metadata and the
  destruction record, no content: its keys are gone). Then ``checklist.pdf`` and
  ``checklist.csv`` (the filing checklist), ``audit.jsonl`` (every audit entry about the
  archive and its documents, oldest first, in the format ``archive audit verify-export``
  checks) and last ``manifest.json``: the archive's data, every document's metadata, and
  every other file's path, size and SHA-256.
- Decrypted content is written only inside the instance's private temporary folder
  (:mod:`archive_app.infra.scratch`): the package is built there and moved to the
  destination once complete (a rename on the same file system, otherwise copied beside
  the destination as ``.part`` and renamed); the temporary copy is removed in every case.
- Audited as one ``archive.export`` entry with the counts and the manifest's SHA-256.

:func:`verify_package` needs no database: it checks that every file the manifest lists is
in the package with that size and SHA-256 and that the package holds nothing else.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive_app.errors import AppError, CannotWrite
from archive_app.infra import scratch
from archive_app.infra.container import Container
from archive_app.models import AuditEntry, ChecklistLine, Document, User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, is_restricted, require, sees_restricted
from archive_app.services import archives as archive_service
from archive_app.services import audit
from archive_app.services.audit_export import ExportWriter, canonical_time
from archive_app.services.checklist import line_as_dict
from archive_app.services.printing import checklist_pdf
from archive_app.services.retention.destruction import stub_info

FORMAT = "archive-handover/1"
MANIFEST = "manifest.json"
CHECKLIST_COLUMNS = (
    "document",
    "file",
    "title",
    "class",
    "pages",
    "version",
    "status",
    "electronic_location",
    "paper_location",
    "state",
    "filer",
    "reviewer",
    "reviewed_at",
    "declared_at",
)
Progress = Callable[[str, int, int], None]


class PackageBroken(AppError):
    code = "package_broken"

    def __init__(self, path: object, problems: list[str]) -> None:
        shown = "; ".join(problems[:5]) + (
            f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        )
        super().__init__(f"{path} does not match its manifest: {shown}")
        self.path = path
        self.problems = problems


@dataclass
class PackageSummary:
    archive: str
    documents: int = 0
    destroyed: int = 0
    files: int = 0
    audit_entries: int = 0
    manifest_sha256: str = ""
    size: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Package:
    zip: zipfile.ZipFile
    files: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, path: str, kind: str, chunks: Iterator[bytes], document: str | None = None
    ) -> None:
        digest = hashlib.sha256()
        size = 0
        with self.zip.open(path, "w", force_zip64=True) as out:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        self.files.append(
            {
                "path": path,
                "kind": kind,
                "document": document,
                "size": size,
                "sha256": digest.hexdigest(),
            }
        )

    def add_bytes(self, path: str, kind: str, data: bytes, document: str | None = None) -> None:
        self.add(path, kind, iter([data]), document)


def _suffix(filename: str) -> str:
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    return suffix if suffix[1:].isalnum() and len(suffix) <= 8 else ""


def _document_metadata(session: Session, document: Document) -> dict[str, Any]:
    return {
        "number": document.number,
        "class": document.document_class.code,
        "class_name": document.document_class.name_zh,
        "title": document.title,
        "original_filename": document.original_filename,
        "mime_type": document.mime_type,
        "size_bytes": document.size_bytes,
        "pages": document.page_count,
        "original_sha256": document.sha256,
        "version": document.version,
        "status": document.status.value,
        "document_date": document.document_date.isoformat() if document.document_date else None,
        "amount": str(document.amount) if document.amount is not None else None,
        "fields": document.fields or {},
        "declared_at": document.declared_at.isoformat() if document.declared_at else None,
        "created_at": document.created_at.isoformat(),
        "destroyed": document.is_destroyed,
        "destruction": stub_info(session, document),
    }


def _checklist_csv(lines: list[ChecklistLine]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(CHECKLIST_COLUMNS)
    for line in lines:
        row = line_as_dict(line)
        writer.writerow([row[name] if row[name] is not None else "" for name in CHECKLIST_COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def _audit_entries(
    session: Session, archive_number: str, documents: list[str]
) -> Iterator[dict[str, Any]]:
    about = [(AuditEntry.object_type == "archive") & (AuditEntry.object_id == archive_number)]
    if documents:
        about.append((AuditEntry.object_type == "document") & AuditEntry.object_id.in_(documents))
    query = select(AuditEntry).where(or_(*about)).order_by(AuditEntry.seq)
    for entry in session.scalars(query):
        yield {
            "seq": entry.seq,
            "at": canonical_time(entry.at),
            "actor": entry.actor_name,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "outcome": entry.outcome,
            "before": entry.before,
            "after": entry.after,
            "prev_hash": entry.prev_hash,
            "entry_hash": entry.entry_hash,
            "withheld": False,
        }


def _stream(container: Container, storage_id: str, object_id: str) -> Iterator[bytes]:
    with container.store.open_object(storage_id, object_id) as reader:
        while chunk := reader.read(256 * 1024):
            yield chunk


def build_package(
    container: Container,
    session: Session,
    actor: User,
    number: str,
    out: IO[bytes],
    progress: Progress | None = None,
) -> PackageSummary:
    """Write the package of archive ``number`` to ``out`` (a file inside the private
    temporary folder: see :func:`export_archive`)."""
    require(actor, Capability.EXPORT_ARCHIVE)
    archive = archive_service.get_visible(session, actor, number)
    if not sees_restricted(actor) and is_restricted(session, archive.id):
        require(actor, Capability.HANDLE_ERASURE)
    documents = list(
        session.scalars(
            select(Document).where(Document.archive_id == archive.id).order_by(Document.id)
        )
    )
    summary = PackageSummary(archive=archive.number)
    metadata = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive_zip:
        package = _Package(archive_zip)
        for position, document in enumerate(documents, start=1):
            folder = f"documents/{document.number}"
            entry = _document_metadata(session, document)
            metadata.append(entry)
            summary.documents += 1
            if document.is_destroyed:
                summary.destroyed += 1
                package.add_bytes(
                    f"{folder}/stub.json",
                    "stub",
                    json.dumps(entry, ensure_ascii=False, indent=2).encode("utf-8"),
                    document.number,
                )
            else:
                if document.original_object_id:
                    package.add(
                        f"{folder}/original{_suffix(document.original_filename)}",
                        "original",
                        _stream(container, archive.storage_id, document.original_object_id),
                        document.number,
                    )
                if document.rendition_object_id:
                    package.add(
                        f"{folder}/searchable.pdf",
                        "searchable_pdf",
                        _stream(container, archive.storage_id, document.rendition_object_id),
                        document.number,
                    )
            if progress is not None:
                progress("documents", position, len(documents))
        lines = list(
            session.scalars(
                select(ChecklistLine)
                .join(Document, ChecklistLine.document_id == Document.id)
                .where(ChecklistLine.archive_id == archive.id, Document.destroyed_at.is_(None))
                .order_by(Document.id)
            )
        )
        package.add_bytes(
            "checklist.pdf",
            "checklist_pdf",
            checklist_pdf(archive, lines, printed_by=actor.username),
        )
        package.add_bytes("checklist.csv", "checklist_csv", _checklist_csv(lines))
        audit_out = io.BytesIO()
        writer = ExportWriter(audit_out, "jsonl")
        for audit_entry in _audit_entries(session, archive.number, [d.number for d in documents]):
            writer.write(audit_entry)
        writer.close()
        summary.audit_entries = writer.count
        package.add_bytes("audit.jsonl", "audit", audit_out.getvalue())
        manifest = {
            "format": FORMAT,
            "archive": {"number": archive.number, **archive.snapshot()},
            "exported_at": canonical_time(utcnow()),
            "exported_by": actor.username,
            "documents": metadata,
            "audit_entries": writer.count,
            "files": package.files,
        }
        manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
        archive_zip.writestr(MANIFEST, manifest_bytes)
    summary.files = len(package.files)
    summary.manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    audit.record(
        session, actor, "archive.export", "archive", archive.number, after=summary.as_dict()
    )
    return summary


def build_private(
    container: Container,
    session: Session,
    actor: User,
    number: str,
    progress: Progress | None = None,
) -> tuple[Path, PackageSummary]:
    """Build the package in a folder of its own inside this process's private temporary
    folder; the caller removes it (:func:`remove_private`) once the package is delivered.
    On failure nothing is left behind."""
    folder = scratch.process_folder(container.settings.home) / f"handover-{uuid.uuid4().hex}"
    folder.mkdir(mode=0o700)
    built = folder / "package.zip"
    try:
        with built.open("wb") as out:
            os.chmod(built, 0o600)
            summary = build_package(container, session, actor, number, out, progress)
        summary.size = built.stat().st_size
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return built, summary


def remove_private(built: Path) -> None:
    shutil.rmtree(built.parent, ignore_errors=True)


def stream_and_remove(built: Path) -> Iterator[bytes]:
    """The package's bytes (a web download); its private folder is removed when the
    stream ends or is abandoned."""
    try:
        with built.open("rb") as reader:
            while chunk := reader.read(256 * 1024):
                yield chunk
    finally:
        remove_private(built)


def export_archive(
    container: Container,
    session: Session,
    actor: User,
    number: str,
    destination: Path,
    progress: Progress | None = None,
) -> PackageSummary:
    """Build the package in the private temporary folder, then move it to ``destination``."""
    built, summary = build_private(container, session, actor, number, progress)
    try:
        _move(built, destination)
    finally:
        remove_private(built)
    return summary


def _move(built: Path, destination: Path) -> None:
    partial = destination.with_name(destination.name + ".part")
    try:
        try:
            os.replace(built, destination)
            return
        except OSError as error:
            if error.errno != 18:  # EXDEV: another file system, copy instead
                raise
        shutil.copyfile(built, partial)
        os.replace(partial, destination)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CannotWrite(destination, error.strerror or str(error)) from None


@dataclass
class PackageCheck:
    archive: str
    files: int
    documents: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "archive": self.archive,
            "files": self.files,
            "documents": self.documents,
        }


def verify_package(path: Path) -> PackageCheck:
    """Check a package against its manifest; raises :class:`PackageBroken` naming every
    file that is missing, altered or not listed."""
    try:
        package = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise PackageBroken(path, [f"not a readable ZIP file ({error})"]) from None
    with package:
        names = set(package.namelist())
        if MANIFEST not in names:
            raise PackageBroken(path, ["manifest.json is missing"])
        try:
            manifest = json.loads(package.read(MANIFEST))
            listed = {item["path"]: item for item in manifest["files"]}
        except (ValueError, KeyError, TypeError) as error:
            raise PackageBroken(path, [f"manifest.json is not a manifest ({error})"]) from None
        problems = []
        for name, item in listed.items():
            if name not in names:
                problems.append(f"{name} is missing")
                continue
            digest = hashlib.sha256()
            size = 0
            with package.open(name) as reader:
                while chunk := reader.read(256 * 1024):
                    digest.update(chunk)
                    size += len(chunk)
            if size != item.get("size") or digest.hexdigest() != item.get("sha256"):
                problems.append(f"{name} differs from its SHA-256 in the manifest")
        problems.extend(
            f"{name} is not in the manifest" for name in sorted(names - set(listed) - {MANIFEST})
        )
        if problems:
            raise PackageBroken(path, problems)
        return PackageCheck(
            archive=str(manifest.get("archive", {}).get("number", "")),
            files=len(listed),
            documents=len(manifest.get("documents", [])),
        )
