"""Tags and notes on documents, and saved searches per user.

``document_tags`` holds one row per (document, tag name): a tag exists while some document
carries it. Names are short labels chosen by people (``urgent``, ``待补``), compared exactly
after trimming. ``document_notes`` are free-text remarks with their author and time; they
are never edited (a correction is a new note). ``saved_searches`` keep a user's search (the
query and its filters as the search form's fields) under a name unique per owner; a shared
one is offered to every user, who runs it with their own clearance.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive_app.models.base import Base, UtcDateTime, utcnow
from archive_app.models.user import User


class DocumentTag(Base):
    __tablename__ = "document_tags"
    __table_args__ = (Index("ix_document_tags_name", "name"),)

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    tagged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tagged_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DocumentNote(Base):
    __tablename__ = "document_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    body: Mapped[str] = mapped_column(Text)

    author: Mapped[User] = relationship(lazy="joined")


class SavedSearch(Base):
    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_saved_searches_owner_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The search form's fields (query, class_code, tag, ...) as strings, without paging.
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    shared: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    owner: Mapped[User] = relationship(lazy="joined")
