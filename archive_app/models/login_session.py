"""Server-side login sessions: a browser is logged in only while its row says so.

The session cookie carries a random token; the database keeps only its SHA-256 (a copy
of the table lets nobody log in). A row ends (``ended_at``) on logout, on a password
change, when the account is deactivated, or when it expires; a cookie whose row has ended
is refused on the next request, wherever it was copied to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive_app.models.base import Base, UtcDateTime, utcnow
from archive_app.models.user import User


class LoginSession(Base):
    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship()
