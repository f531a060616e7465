"""Login sessions kept on the server, so that logging out really ends them.

Contract: :func:`start` makes a session for a user who has just authenticated and returns
the random token the browser keeps (signed, in its session cookie); only the token's
SHA-256 is stored. :func:`resolve` answers, on every request, which active user a token
belongs to, or None when the session has ended, expired, or its user is inactive. A
session ends on logout (:func:`end`) and, for every session of a user at once
(:func:`end_all`), when their password changes or the account is deactivated; after a
user changes their own password, only the session they changed it in stays open.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive_app.models import LoginSession, User
from archive_app.models.base import utcnow

# Seen-at is refreshed at most this often: a write per request would serialise every page
# view behind SQLite's single writer for a value only kept for the administrator's eyes.
TOUCH_INTERVAL = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(session: Session, user: User, *, lifetime: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        LoginSession(
            token_sha256=_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def resolve(session: Session, token: str | None) -> User | None:
    if not token:
        return None
    row = session.scalar(select(LoginSession).where(LoginSession.token_sha256 == _digest(token)))
    now = utcnow()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    user = row.user
    if not user.active:
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return user


def end(session: Session, token: str | None, reason: str) -> None:
    if not token:
        return
    session.execute(
        update(LoginSession)
        .where(LoginSession.token_sha256 == _digest(token), LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )


def end_all(session: Session, user: User, reason: str, *, keep: str | None = None) -> int:
    """End every open session of ``user`` except the one of token ``keep`` (the session in
    which the user changed their own password goes on); returns how many were ended."""
    statement = update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
    )
    if keep:
        statement = statement.where(LoginSession.token_sha256 != _digest(keep))
    result = session.execute(statement.values(ended_at=utcnow(), end_reason=reason))
    return int(result.rowcount or 0)
