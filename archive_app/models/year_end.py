"""The year-end review's sign-off (年终整理): one row per fiscal year and scope, never two.

``scope`` is ``all`` (every archive) or one archive's number. The row keeps who signed and
when, the figures exactly as the signer saw them (``figures``, the JSON the report prints)
and the SHA-256 of their canonical JSON (``figures_sha256``), so a printed report can be
checked against what was signed. The unique constraint on (year, scope) is what refuses a
second sign-off, also when two are submitted at the same moment. Rows are never changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive_app.models.base import Base, UtcDateTime, utcnow
from archive_app.models.user import User

SCOPE_ALL = "all"


class YearEndReview(Base):
    __tablename__ = "year_end_reviews"
    __table_args__ = (UniqueConstraint("year", "scope", name="uq_year_end_reviews_year_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(64))
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    figures_sha256: Mapped[str] = mapped_column(String(64))

    signed_by: Mapped[User] = relationship(lazy="joined")
