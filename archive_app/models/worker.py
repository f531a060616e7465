"""Worker processes (the registry behind claims, recovery and "is a worker running?").

Every process that takes documents off the queue registers one row when it starts and
refreshes ``heartbeat_at`` while it lives; a clean stop sets ``stopped_at``. A document
being processed names the row of the process working on it (``Document.claimed_by``):
when that process is gone, the claim is dead and recovery queues the document again.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from archive_app.models.base import Base, StrEnumType, UtcDateTime, utcnow


class WorkerKind(enum.StrEnum):
    WORKER = "worker"  # ``archive worker``
    EMBEDDED = "embedded"  # the worker ``archive serve`` runs and supervises
    INLINE = "inline"  # ``archive import --wait`` extracting in its own process

    @property
    def is_background(self) -> bool:
        return self is not WorkerKind.INLINE


class Worker(Base):
    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[WorkerKind] = mapped_column(StrEnumType(WorkerKind))
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    # An embedded worker's ``archive serve`` process (same host).
    parent_pid: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # "stopped" (a clean stop), "lost" (found dead by another process), "recovered" (lost,
    # and recovery has dealt with what it may have left half done).
    stop_reason: Mapped[str | None] = mapped_column(String(20))
