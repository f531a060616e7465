"""The history of the periodic inspection (定期检查): one row per run, scheduled or manual.

A run is inserted in state ``running`` before the checks start and finished in the same
row (``passed``, ``failed`` when anything was found, ``error`` when the inspection could not
run, ``interrupted`` when its process died). At most one row is ``running`` at a time: a
partial unique index says so, so two workers whose beats fire together cannot both start
one. A running row names who runs it (``worker_id`` for the worker's registration, else the
host and pid of the command) and refreshes ``heartbeat_at`` while it works, so a run whose
process is gone is recognised and closed as interrupted.

``findings`` keeps the first ``FINDINGS_KEPT`` findings (as ``Finding.as_dict`` writes
them); ``findings_count`` and ``counts`` cover them all. Rows are never deleted.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive_app.models.base import Base, StrEnumType, UtcDateTime, utcnow
from archive_app.models.user import User

FINDINGS_KEPT = 1000


class InspectionState(enum.StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    INTERRUPTED = "interrupted"


class InspectionTrigger(enum.StrEnum):
    SCHEDULED = "scheduled"  # the worker's beat
    MANUAL = "manual"  # ``archive verify``


class InspectionRun(Base):
    __tablename__ = "inspection_runs"
    __table_args__ = (
        Index(
            "uq_inspection_runs_one_running",
            "state",
            unique=True,
            sqlite_where=text("state = 'running'"),
            postgresql_where=text("state = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[InspectionTrigger] = mapped_column(StrEnumType(InspectionTrigger))
    state: Mapped[InspectionState] = mapped_column(StrEnumType(InspectionState))
    # Who ran it by hand; None for a scheduled run.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    documents: Mapped[int] = mapped_column(Integer, default=0)
    objects_checked: Mapped[int] = mapped_column(Integer, default=0)
    findings_count: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship(lazy="joined")
