"""Objects in flight: stored objects that no row references yet, or no longer does.

A row is written before an object is stored (in the transaction that decides to store
it) and removed in the transaction that makes a document reference the object; for an
object a transaction stops referencing, a row is written in that transaction and removed
once the object is deleted. A row left behind by a process that died is how recovery
finds the object to delete (:mod:`archive_app.infra.pending`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from archive_app.models.base import Base, UtcDateTime, utcnow


class PendingObject(Base):
    __tablename__ = "pending_objects"
    __table_args__ = (UniqueConstraint("storage_id", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_id: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(128))
    # The process that stores or deletes the object; recovery leaves it alone while it runs.
    owner_hostname: Mapped[str] = mapped_column(String(255))
    owner_pid: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    # Set by recovery before it deletes the object: from then on no row may reference it.
    reclaimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
