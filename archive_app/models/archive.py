"""Customer archives (客户档案): one per customer, with a permanent archive number."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
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
    tax_id: Mapped[str] = mapped_column(String(64), default="")
    level: Mapped[Level] = mapped_column(StrEnumType(Level))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User] = relationship()

    EDITABLE_FIELDS = (
        "name",
        "customer_type",
        "contact",
        "address",
        "business_unit",
        "tax_id",
        "level",
        "notes",
    )

    def snapshot(self) -> dict[str, str]:
        """The editable values as plain strings: what the audit trail records."""
        return {name: str(getattr(self, name) or "") for name in self.EDITABLE_FIELDS}
