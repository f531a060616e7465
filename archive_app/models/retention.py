"""Retention and destruction rows: rule versions, trigger events, legal holds, unsettled-claim
flags, disposition batches (销毁清册), destruction records and certificates, customer erasure
requests and notifications (appraisal, inspection, reminders) with who read them.

Contract: nothing here is ever deleted. A rule change adds a version row; a released hold
keeps its row with who released it and why; a batch keeps its full engine state as JSON
(``retention.batch_to_dict``) for good; an execution first commits its decision as a
``destruction_plans`` row (the signed destruction-ledger entry) and only then destroys
anything; a destroyed document keeps its ``documents`` row as a stub plus one
``destruction_records`` row naming its batch and certificate.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive_app.models.archive import CustomerArchive
from archive_app.models.base import Base, UtcDateTime, utcnow
from archive_app.models.document import Document
from archive_app.models.user import User


class RetentionRuleVersion(Base):
    """One version of one retention rule; the highest version of a code is current."""

    __tablename__ = "retention_rule_versions"
    __table_args__ = (
        Index("uq_retention_rule_versions_code_version", "code", "version", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    class_code: Mapped[str] = mapped_column(String(64))
    # "permanent" or a whole number of years, as ``retention.Period.to_json`` writes it.
    period: Mapped[str] = mapped_column(String(16))
    statutory_minimum: Mapped[str | None] = mapped_column(String(16))
    trigger_anchor: Mapped[str] = mapped_column(String(64))
    trigger_fiscal: Mapped[bool] = mapped_column(Boolean, default=False)
    fiscal_year_start_month: Mapped[int] = mapped_column(Integer, default=1)
    citation_zh: Mapped[str] = mapped_column(Text)
    citation_en: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    created_by: Mapped[User | None] = relationship()


class RetentionEvent(Base):
    """A trigger event of one record (contract_end, relationship_end, asset_scrapped)."""

    __tablename__ = "retention_events"
    __table_args__ = (
        Index("uq_retention_events_document_event", "document_id", "event", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    event: Mapped[str] = mapped_column(String(64))
    event_date: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    document: Mapped[Document] = relationship()


class LegalHold(Base):
    """A named legal hold (冻结/保全). Active while ``released_at`` is empty."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    release_reason: Mapped[str | None] = mapped_column(Text)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])
    targets: Mapped[list[LegalHoldTarget]] = relationship(back_populates="hold")

    @property
    def active(self) -> bool:
        return self.released_at is None


class LegalHoldTarget(Base):
    """What a hold covers: a whole archive or one record (exactly one of the two)."""

    __tablename__ = "legal_hold_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("legal_holds.id"), index=True)
    archive_id: Mapped[int | None] = mapped_column(ForeignKey("customer_archives.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)

    hold: Mapped[LegalHold] = relationship(back_populates="targets")
    archive: Mapped[CustomerArchive | None] = relationship()
    document: Mapped[Document | None] = relationship()


class UnsettledClaim(Base):
    """A voucher backing an unsettled claim or debt (未结清的债权债务): held until settled."""

    __tablename__ = "unsettled_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    flagged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    flagged_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    settle_reason: Mapped[str | None] = mapped_column(Text)

    document: Mapped[Document] = relationship()


class DispositionBatch(Base):
    """A destruction list (销毁清册); ``state_json`` is the engine's batch, kept forever."""

    __tablename__ = "disposition_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    state_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    erasure_request_id: Mapped[int | None] = mapped_column(ForeignKey("erasure_requests.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    executed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    created_by: Mapped[User] = relationship()


class DestructionCertificate(Base):
    """The signed certificate file of one executed batch, exactly as written to disk."""

    __tablename__ = "destruction_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[str] = mapped_column(String(64), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("disposition_batches.id"), unique=True)
    file_name: Mapped[str] = mapped_column(String(200))
    signed: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    batch: Mapped[DispositionBatch] = relationship()


class DestructionPlan(Base):
    """The committed decision of one batch's execution (see
    :mod:`archive_app.services.retention.plans`): ``decided`` from the commit that names
    what will be destroyed, ``completed`` once every record it names is a stub.

    ``ledger_entry`` is the signed destruction-ledger entry exactly as written to the ledger
    files (its payload is the plan, the executed batch and the signed certificate), the one
    source of what the decision holds; ``ledger_sha256`` its chain hash, which the next
    entry names.
    """

    __tablename__ = "destruction_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("disposition_batches.id"), unique=True)
    certificate_id: Mapped[str] = mapped_column(String(64), unique=True)
    executor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), index=True)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ledger_seq: Mapped[int] = mapped_column(Integer, unique=True)
    ledger_sha256: Mapped[str] = mapped_column(String(64))
    ledger_entry: Mapped[str] = mapped_column(Text)

    batch: Mapped[DispositionBatch] = relationship()
    executor: Mapped[User] = relationship()


class DestructionRecord(Base):
    """What remains known of one destroyed record besides its stub row."""

    __tablename__ = "destruction_records"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("disposition_batches.id"), index=True)
    certificate_id: Mapped[str | None] = mapped_column(String(64))
    rule_code: Mapped[str] = mapped_column(String(64))
    rule_version: Mapped[int] = mapped_column(Integer)
    eligible_on: Mapped[date] = mapped_column(Date)
    keys_destroyed: Mapped[list[str]] = mapped_column(JSON, default=list)
    destroyed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    batch: Mapped[DispositionBatch] = relationship()


class ErasureRequest(Base):
    """A customer's request to delete their personal data (删除个人信息) for one archive."""

    __tablename__ = "erasure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("customer_archives.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    archive: Mapped[CustomerArchive] = relationship()


class RetentionNotification(Base):
    """A note for the people who act on it: from the periodic appraisal (鉴定), kind
    ``appraisal``; from a failed periodic inspection, kind ``inspection``, which names its
    run and keeps the problem counts in ``counts``; or a reminder (``review``,
    ``approval``). Who may read which kind is decided in
    :mod:`archive_app.services.notifications`.

    ``subject`` names what the note is about (``plan``, ``run:7``, ``archive:KH-000001``,
    ``batch:XH-2026-0001``); one note per kind, subject and day (the unique index makes the
    periodic tasks idempotent even when two of them race). ``level`` is the highest
    confidentiality level of the records behind the subject (None: names no record), so a
    reader sees the note only with that clearance. Whether a note was read is kept per user
    (:class:`NotificationRead`); ``read_at`` is the instance-wide mark of earlier versions,
    no longer written."""

    __tablename__ = "retention_notifications"
    __table_args__ = (
        Index(
            "uq_retention_notifications_kind_subject_day", "kind", "subject", "as_of", unique=True
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[date] = mapped_column(Date, index=True)
    eligible_count: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    inspection_run_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_runs.id"))
    subject: Mapped[str | None] = mapped_column(String(80))
    level: Mapped[str | None] = mapped_column(String(20))
    # Set when the reminders claimed the note for e-mail (ARCHIVE_SMTP_URL): mailed once.
    mailed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class NotificationRead(Base):
    """One user has read one note (marking read is per user: a colleague's reading hides
    nothing from anyone else)."""

    __tablename__ = "notification_reads"

    notification_id: Mapped[int] = mapped_column(
        ForeignKey("retention_notifications.id"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
