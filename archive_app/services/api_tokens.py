"""API tokens: create, list, revoke, and resolve a bearer token to the user it acts as.

Contract: :func:`create` returns the new row and the token itself, which is shown once
and never stored (only its SHA-256). A user manages their own tokens; an administrator
manages the tokens of the accounts they may manage (``permissions.require_manage_tokens``).
:func:`authenticate` answers which active user a presented token acts as, and refuses
(:class:`TokenRefused`) one that is unknown, revoked or expired or whose user is
deactivated, recording the attempt like a failed login. Creation and revocation are
audited.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.errors import NotFound, TokenRefused, ValidationFailed
from archive_app.models import ApiToken, User
from archive_app.models.base import utcnow
from archive_app.permissions import may_manage_tokens, require_manage_tokens
from archive_app.services import audit, refusals
from archive_app.services.users import get_user

TOKEN_PREFIX = "arc_"
# The name a refused token is recorded under when it matches no token at all.
UNKNOWN_TOKEN = "(api token)"
MAX_EXPIRY_DAYS = 3650
# last_used_at is refreshed at most this often: a write per call would serialise every API
# request behind SQLite's single writer for a value kept only for the owner's eyes.
TOUCH_INTERVAL = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(
    session: Session, actor: User, username: str, name: str, *, expires_days: int | None = None
) -> tuple[ApiToken, str]:
    owner = get_user(session, username)
    require_manage_tokens(actor, owner)
    problems: dict[str, str] = {}
    name = name.strip()
    if not name or len(name) > 80:
        problems["name"] = "give the token a name of 1 to 80 characters"
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        problems["expires"] = f"must be between 1 and {MAX_EXPIRY_DAYS} days"
    if problems:
        raise ValidationFailed(problems)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(
        user_id=owner.id,
        name=name,
        prefix=token[:12],
        token_sha256=_digest(token),
        created_at=now,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "api_token.create",
        "user",
        owner.username,
        after={"token": row.id, "name": name, "expires_at": row.expires_at},
    )
    return row, token


def list_tokens(session: Session, actor: User, username: str | None = None) -> list[ApiToken]:
    """``username``'s tokens, newest first; without a name, every token the actor may
    manage (their own, and for an admin those of the accounts they may manage)."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if username is not None:
        owner = get_user(session, username)
        require_manage_tokens(actor, owner)
        return list(session.scalars(query.where(ApiToken.user_id == owner.id)))
    return [row for row in session.scalars(query) if may_manage_tokens(actor, row.user)]


def revoke(session: Session, actor: User, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("token", str(token_id))
    require_manage_tokens(actor, row.user)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            session, actor, "api_token.revoke", "user", row.user.username, after={"token": row.id}
        )
    return row


def is_live(row: ApiToken) -> bool:
    now = utcnow()
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


def authenticate(session: Session, token: str, *, remote_addr: str | None = None) -> User:
    """The active user a presented token acts as, or :class:`TokenRefused`. A refused
    token is recorded like a failed login (the owner's name when the token is known, the
    reason, ``remote_addr``; never the token), within the bounds of
    :mod:`archive_app.services.refusals`."""
    row = None
    if token.startswith(TOKEN_PREFIX):
        row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
    if row is None:
        _refused(session, UNKNOWN_TOKEN, "unknown API token", remote_addr)
    elif row.revoked_at is not None:
        _refused(session, row.user.username, f"revoked API token {row.id}", remote_addr)
    elif not is_live(row):
        _refused(session, row.user.username, f"expired API token {row.id}", remote_addr)
    elif not row.user.active:
        _refused(session, row.user.username, f"API token {row.id}: account inactive", remote_addr)
    assert row is not None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL:
        row.last_used_at = now
    return row.user


def _refused(session: Session, name: str, reason: str, remote_addr: str | None) -> NoReturn:
    if refusals.record_failed_login(session, name, reason, remote_addr):
        # The attempt stays on record although the request fails.
        session.commit()
    raise TokenRefused()
