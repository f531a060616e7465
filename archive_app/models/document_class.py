"""Document classes (文件类别) and the versions of their definitions.

Contract: a class row holds the current definition (code, bilingual names, numbering code,
retention rule, fields) and its ``version``; every definition a class ever had is kept as a
``document_class_versions`` row (never changed, never deleted). A document names the
version it was filed or last edited under (``documents.class_version_id``), so changing a
class never changes what a declared record is checked against. A retired class
(``active`` false) takes no new documents; its documents keep it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive_app.models.base import Base, UtcDateTime, utcnow


class DocumentClass(Base):
    __tablename__ = "document_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    number_code: Mapped[str] = mapped_column(String(8), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    # A list of {"name", "type", "label_zh", "label_en", ...}; see archive_app.domain.classes.
    required_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    retention_rule: Mapped[str | None] = mapped_column(String(64))
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en

    def definition(self) -> dict[str, Any]:
        """The current definition, as a version row keeps it."""
        return {
            "number_code": self.number_code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "retention_rule": self.retention_rule,
            "required_fields": list(self.required_fields),
            "active": self.active,
        }


class DocumentClassVersion(Base):
    """One definition of one class; the class's ``version`` names the current one."""

    __tablename__ = "document_class_versions"
    __table_args__ = (
        Index("uq_document_class_versions_class_version", "class_id", "version", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("document_classes.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    @property
    def required_fields(self) -> list[dict[str, Any]]:
        return list(self.definition.get("required_fields") or [])
