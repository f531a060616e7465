"""The filing checklist (归档清单): one line per document, its paper location and the
history of moves, and the versions of a record.

A line is created with its document (state ``draft``). The archivist submits it
(``awaiting_review``) once the system's checks pass; a different person confirms it
(``filed``, and the document is declared) or rejects it with a reason (back to ``draft``,
the reason kept on the line until the next submission).

The paper original's current place (room / shelf / box / folder position) lives on the
line, so the checklist and location filters need no join; every change of place appends
a :class:`PaperLocationMove` (who, when, from, to).

:class:`DocumentVersion` keeps one row per version of a record's content. The document
row always points at the newest version's objects; when a corrected scan replaces it, the
superseded version's text and rendition object ids are copied into its version row, so
every earlier version stays viewable and downloadable.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive_app.models.base import Base, StrEnumType, UtcDateTime, utcnow
from archive_app.models.document import Document
from archive_app.models.user import User

LOCATION_PARTS = ("room", "shelf", "box", "position")


class ChecklistState(enum.StrEnum):
    DRAFT = "draft"
    AWAITING_REVIEW = "awaiting_review"
    FILED = "filed"


class ChecklistLine(Base):
    __tablename__ = "checklist_lines"
    __table_args__ = (Index("ix_checklist_lines_archive_state", "archive_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("customer_archives.id"))
    state: Mapped[ChecklistState] = mapped_column(
        StrEnumType(ChecklistState), default=ChecklistState.DRAFT
    )
    # 归档责任人: the archivist who filed the current version.
    filer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(Text)

    paper_room: Mapped[str] = mapped_column(String(100), default="")
    paper_shelf: Mapped[str] = mapped_column(String(100), default="")
    paper_box: Mapped[str] = mapped_column(String(100), default="")
    paper_position: Mapped[str] = mapped_column(String(100), default="")
    located_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    document: Mapped[Document] = relationship()
    filer: Mapped[User] = relationship(foreign_keys=[filer_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])

    @property
    def location(self) -> dict[str, str]:
        return {part: getattr(self, f"paper_{part}") for part in LOCATION_PARTS}

    @property
    def is_located(self) -> bool:
        return any(self.location.values())

    @property
    def location_text(self) -> str:
        return " / ".join(value for value in self.location.values() if value)


class PaperLocationMove(Base):
    __tablename__ = "paper_location_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    from_location: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    to_location: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(500), default="")
    moved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    moved_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    moved_by: Mapped[User] = relationship()


class DocumentVersion(Base):
    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    original_filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    original_object_id: Mapped[str | None] = mapped_column(String(128))
    # Filled when the version is superseded; the current version's are on the document.
    text_object_id: Mapped[str | None] = mapped_column(String(128))
    rendition_object_id: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
