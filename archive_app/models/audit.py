"""The audit trail: append-only, hash-chained.

Each entry stores the hash of the entry before it (``prev_hash``) and its own hash over
its content plus that link. ``audit_head`` is a single row holding the newest sequence
number and hash; appending locks it, so appends are serialised on every database and
removing the newest entries is detected as well. No code path updates or deletes rows.

``outcome`` says how the recorded attempt ended: ``ok`` (done), ``refused`` (a permission
refusal) or ``failed`` (a failed login). It is hashed too, except ``ok``, so the entries
written before the column existed keep their hashes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from archive_app.models.base import Base, UtcDateTime

GENESIS_HASH = "0" * 64
OUTCOMES = ("ok", "refused", "failed")


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        # The viewer's filters, newest first: by actor, by outcome, by time.
        Index("ix_audit_entries_actor_name_seq", "actor_name", "seq"),
        Index("ix_audit_entries_outcome_seq", "outcome", "seq"),
        Index("ix_audit_entries_at", "at"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(128), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16), default="ok", server_default="ok")
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
