"""Documents (文件): one scanned or born-digital record inside a customer archive.

The row holds metadata only. The original file, the extracted text and the searchable PDF
rendition live encrypted in the blob store; the row keeps their object ids and the SHA-256
of the original. ``status`` follows the intake pipeline: ``queued`` (stored, waiting for
extraction) → ``processing`` → ``ready``, or ``failed`` with ``failure_reason`` (retryable).
A processing document names the worker that claimed it (``claimed_by``); when that worker
is gone the claim is dead and recovery queues the document again, counting the
interruption (``interruptions``) so a file that kills its worker every time ends failed
instead of looping.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive_app.models.archive import CustomerArchive
from archive_app.models.base import Base, StrEnumType, UtcDateTime, utcnow
from archive_app.models.document_class import DocumentClass, DocumentClassVersion
from archive_app.models.user import User
from archive_app.models.worker import Worker

if TYPE_CHECKING:
    from archive_app.models.checklist import ChecklistLine


class DocumentStatus(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        # Deduplication within an archive; a destroyed record's hash is cleared (its
        # certificate keeps it), so a later identical upload is not blocked by a stub.
        Index("uq_documents_archive_sha256", "archive_id", "sha256", unique=True),
        Index("ix_documents_archive_status", "archive_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(96), unique=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("customer_archives.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("document_classes.id"))
    # The class definition the document was filed or last edited under (see
    # archive_app.models.document_class): what its checklist and declaration check it by.
    class_version_id: Mapped[int | None] = mapped_column(ForeignKey("document_class_versions.id"))
    title: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[DocumentStatus] = mapped_column(
        StrEnumType(DocumentStatus), default=DocumentStatus.QUEUED
    )
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("workers.id", ondelete="SET NULL"), index=True
    )
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    interruptions: Mapped[int] = mapped_column(Integer, default=0)

    original_filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    original_object_id: Mapped[str | None] = mapped_column(String(128))
    text_object_id: Mapped[str | None] = mapped_column(String(128))
    rendition_object_id: Mapped[str | None] = mapped_column(String(128))
    extraction_method: Mapped[str | None] = mapped_column(String(32))
    ocr_confidence: Mapped[float | None] = mapped_column(Float)

    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What the reading found that a person must look at (no document text: the suggestions
    # themselves are in the encrypted text object, see ``archive_app.domain.reading``).
    # Server defaults, not Python ones: a backup of an older schema is loaded column by
    # column (``services.backup.tables.copy_table``), and these columns are not there yet.
    unreadable_pages: Mapped[list[int]] = mapped_column(JSON, server_default="[]")  # 1-based
    # The document names a party that is neither the archive's customer nor our own company.
    misfiling_suspected: Mapped[bool] = mapped_column(Boolean, server_default=false())
    document_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))

    # Declaration (filing checklist confirmed): content frozen, number fixed, retention
    # clock may start. Destruction leaves the row as a stub without content.
    version: Mapped[int] = mapped_column(Integer, default=1)
    declared_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    destroyed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The destruction decision naming this record: set when it is committed, before any key
    # is destroyed; while ``destroyed_at`` is still empty the record is being destroyed.
    destruction_plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("destruction_plans.id"), index=True
    )

    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    archive: Mapped[CustomerArchive] = relationship()
    document_class: Mapped[DocumentClass] = relationship()
    class_definition: Mapped[DocumentClassVersion | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    declared_by: Mapped[User | None] = relationship(foreign_keys=[declared_by_id])
    claimed_by: Mapped[Worker | None] = relationship()
    # The filing checklist line (archive_app.models.checklist), one per document.
    checklist_line: Mapped[ChecklistLine | None] = relationship(
        "ChecklistLine", uselist=False, viewonly=True
    )

    @property
    def field_specs(self) -> list[dict[str, Any]]:
        """The fields of the class definition this document is held to."""
        pinned = self.class_definition
        if pinned is not None and pinned.class_id == self.class_id:
            return pinned.required_fields
        return list(self.document_class.required_fields)

    @property
    def class_version(self) -> int | None:
        """The version of its class's definition the document is held to (None: filed
        before definitions were versioned, held to the current one)."""
        pinned = self.class_definition
        if pinned is not None and pinned.class_id == self.class_id:
            return pinned.version
        return None

    @property
    def is_declared(self) -> bool:
        return self.declared_at is not None

    @property
    def is_destroyed(self) -> bool:
        return self.destroyed_at is not None

    @property
    def is_being_destroyed(self) -> bool:
        """Its destruction is decided (committed) and not yet finished."""
        return self.destruction_plan_id is not None and self.destroyed_at is None

    @property
    def display_title(self) -> str:
        return self.title or self.original_filename
