"""Account lockouts after too many failed logins.

Contract (the counting itself is the web's throttle, :mod:`archive_app.web.throttle`; this
module keeps the lock, which every process and the command line see in the database):

- :func:`lock` locks an account for ``seconds``: ``user.locked`` in the audit trail (actor
  ``anonymous``: the lock follows what someone typed), with the remote address and the
  number of failures that led to it.
- :func:`remaining` answers how many seconds the account's lock still lasts, None when it
  is not locked. A lock whose time is up is lifted there and then: ``user.unlocked`` with
  ``"by": "time"`` (actor ``system``), the moment it ended as the new count start.
- :func:`unlock` lifts a lock now, by a user who may manage that user (an admin):
  ``user.unlocked`` with ``"by": "admin"``. An account that is not locked is a
  :class:`Conflict`.
- :func:`count_start` names the current counting period of an account's failures: it
  changes at every unlock, so an unlocked account starts again with its full allowance.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.errors import Conflict, PermissionDenied
from archive_app.models import User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, may_manage_user, require
from archive_app.services import audit
from archive_app.services.refusals import ANONYMOUS
from archive_app.services.users import get_user

SYSTEM = "system"


def find(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def count_start(user: User | None) -> str:
    return user.unlocked_at.isoformat() if user and user.unlocked_at else "0"


def lock(
    session: Session, user: User, *, seconds: int, remote_addr: str | None, failures: int
) -> None:
    until = utcnow() + timedelta(seconds=seconds)
    user.locked_until = until
    audit.record(
        session,
        None,
        "user.locked",
        "user",
        user.username,
        after={
            "until": until.isoformat(timespec="seconds"),
            "failures": failures,
            "remote_addr": remote_addr or "",
        },
        actor_name=ANONYMOUS,
    )


def record_api_throttled(
    session: Session,
    user_id: int,
    *,
    limit: str,
    retry_after: int,
    per: str,
    where: str,
    remote_addr: str | None,
) -> None:
    """The first API call of a window refused for being over an allowance (``per``: the
    user's or the address's), as a refusal of the token's user."""
    user = session.get(User, user_id)
    audit.record(
        session,
        user,
        "api.throttled",
        "user" if per == "api-user" else "address",
        user.username if user is not None and per == "api-user" else (remote_addr or ""),
        after={
            "limit": limit,
            "retry_after": retry_after,
            "where": where,
            "remote_addr": remote_addr or "",
        },
        outcome=audit.REFUSED,
    )


def remaining(session: Session, user: User | None) -> int | None:
    if user is None or user.locked_until is None:
        return None
    now = utcnow()
    if user.locked_until > now:
        return max(1, math.ceil((user.locked_until - now).total_seconds()))
    ended = user.locked_until
    _lift(session, user, None, by="time", at=ended)
    return None


def unlock(session: Session, actor: User, username: str) -> User:
    require(actor, Capability.MANAGE_USERS)
    user = get_user(session, username)
    if not may_manage_user(actor, user):
        raise PermissionDenied(f"unlock user {user.username!r} (cleared above you)", actor.username)
    if user.locked_until is None or user.locked_until <= utcnow():
        raise Conflict(f"user {user.username!r} is not locked")
    _lift(session, user, actor, by="admin", at=utcnow())
    return user


def _lift(session: Session, user: User, actor: User | None, *, by: str, at: datetime) -> None:
    locked_until = user.locked_until
    user.locked_until = None
    user.unlocked_at = at
    audit.record(
        session,
        actor,
        "user.unlocked",
        "user",
        user.username,
        before={"until": locked_until.isoformat(timespec="seconds") if locked_until else None},
        after={"by": by},
        actor_name=None if actor is not None else SYSTEM,
    )
