"""Customer archives (客户档案): one per customer, with a permanent archive number.

The customer's attributes (type, industry, region, 统一社会信用代码, contacts) are columns;
its tags are rows of ``customer_tags`` (one per tag, so a list filters by tag with an
index). ``snapshot()`` is what the audit trail records, tags included. Consent records
for the customer's personal data are rows of ``customer_consents``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive_app.models.base import Base, StrEnumType, UtcDateTime, utcnow
from archive_app.models.user import Level, User


class CustomerType(enum.StrEnum):
    COMPANY = "company"
    PERSON = "person"


class CustomerArchive(Base):
    __tablename__ = "customer_archives"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    storage_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    customer_type: Mapped[CustomerType] = mapped_column(StrEnumType(CustomerType))
    contact: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    business_unit: Mapped[str] = mapped_column(String(200), default="")
    industry: Mapped[str] = mapped_column(String(100), default="", index=True)
    region: Mapped[str] = mapped_column(String(100), default="", index=True)
    tax_id: Mapped[str] = mapped_column(String(64), default="")
    level: Mapped[Level] = mapped_column(StrEnumType(Level))
    notes: Mapped[str] = mapped_column(Text, default="")
    # The end of the business relationship: the date of the customer's documents'
    # ``relationship_end`` trigger event (see services/retention/facts.py).
    relationship_end: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User] = relationship()
    tags: Mapped[list[CustomerTag]] = relationship(
        cascade="all, delete-orphan", order_by="CustomerTag.tag", lazy="selectin"
    )

    EDITABLE_FIELDS = (
        "name",
        "customer_type",
        "contact",
        "address",
        "business_unit",
        "industry",
        "region",
        "tax_id",
        "level",
        "notes",
        "relationship_end",
    )

    @property
    def tag_names(self) -> list[str]:
        return sorted(tag.tag for tag in self.tags)

    def snapshot(self) -> dict[str, str]:
        """The editable values as plain strings: what the audit trail records."""
        values = {name: str(getattr(self, name) or "") for name in self.EDITABLE_FIELDS}
        values["tags"] = ";".join(self.tag_names)
        return values


class CustomerTag(Base):
    __tablename__ = "customer_tags"
    __table_args__ = (Index("ix_customer_tags_tag", "tag"),)

    archive_id: Mapped[int] = mapped_column(
        ForeignKey("customer_archives.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)


class CustomerConsent(Base):
    """A customer's consent to the processing of their personal data (PIPL art. 14):
    what for, how far, when and how it was given, and when and how it was withdrawn.
    Never deleted: a withdrawal is recorded on the row."""

    __tablename__ = "customer_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("customer_archives.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(300))
    scope: Mapped[str] = mapped_column(String(500), default="")
    given_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(100))
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawal_channel: Mapped[str] = mapped_column(String(100), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    recorded_by: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        return self.withdrawn_on is None

    def snapshot(self) -> dict[str, str]:
        return {
            "purpose": self.purpose,
            "scope": self.scope,
            "given_on": self.given_on.isoformat(),
            "channel": self.channel,
            "withdrawn_on": self.withdrawn_on.isoformat() if self.withdrawn_on else "",
            "withdrawal_channel": self.withdrawal_channel,
        }
