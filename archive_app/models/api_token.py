"""API tokens: a user's bearer credentials for ``/api/v1``.

Only the token's SHA-256 is stored (the token is 256 random bits, so a plain digest cannot
be reversed by guessing; a copy of the table lets nobody call the API). ``prefix`` keeps
the first characters so that a user can tell their tokens apart in a list. A token acts
as its user while it is neither revoked nor expired and the user is active.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive_app.models.base import Base, UtcDateTime, utcnow
from archive_app.models.user import User


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    user: Mapped[User] = relationship()
