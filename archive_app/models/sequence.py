"""Named counters for gap-free numbers (archive numbers, document numbers).

A counter row is incremented inside the same transaction that inserts the numbered row:
if that transaction rolls back, so does the increment, so numbers are gap-free; because
rows are never deleted and counters never decrease, numbers are never reused.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from archive_app.models.base import Base


class NumberSequence(Base):
    __tablename__ = "number_sequences"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger, default=0)
