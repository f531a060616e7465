"""Document classes (文件类别): code, bilingual names, numbering code, required metadata."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from archive_app.models.base import Base


class DocumentClass(Base):
    __tablename__ = "document_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    number_code: Mapped[str] = mapped_column(String(8), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    # A list of {"name", "type", "label_zh", "label_en"}; see archive_app.domain.classes.
    required_fields: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    retention_rule: Mapped[str | None] = mapped_column(String(64))
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en
