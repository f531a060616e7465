"""Users, their role and their clearance (the highest confidentiality level they may see)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, String, false
from sqlalchemy.orm import Mapped, mapped_column

from archive_app.models.base import Base, StrEnumType, UtcDateTime, utcnow


class Role(enum.StrEnum):
    ARCHIVIST = "archivist"
    STAFF = "staff"
    COMPLIANCE = "compliance"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Level(enum.StrEnum):
    """Confidentiality levels, in increasing order of secrecy."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"

    @property
    def rank(self) -> int:
        return list(Level).index(self)


DEFAULT_CLEARANCE = {
    Role.ARCHIVIST: Level.CONFIDENTIAL,
    Role.STAFF: Level.INTERNAL,
    Role.COMPLIANCE: Level.SECRET,
    Role.AUDITOR: Level.SECRET,
    Role.ADMIN: Level.SECRET,
}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    clearance: Mapped[Level] = mapped_column(StrEnumType(Level))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by an admin's reset and on the generated first password: until the user chooses
    # their own, every page leads to the change-password page.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    language: Mapped[str | None] = mapped_column(String(10))
    # Optional: where reminders are also sent when ARCHIVE_SMTP_URL is set.
    email: Mapped[str | None] = mapped_column(String(254))
    # Too many failed logins lock the account until this moment (or an admin's unlock).
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The last unlock: failed logins are counted afresh from it (archive_app.web.throttle).
    unlocked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    # Flask-Login protocol, kept here so the web layer needs no wrapper class.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def may_see(self, level: Level) -> bool:
        return Level(level).rank <= Level(self.clearance).rank

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
