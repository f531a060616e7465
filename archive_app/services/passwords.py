"""Passwords: a user changes their own, an admin resets another user's.

Contract:

- :func:`change_own`: the user gives their current password and a new one. A wrong
  current password is refused (``wrong_current``) and the failed attempt stays on the
  audit trail (``password.change_failed``) although the operation fails. The new password
  meets :mod:`archive_app.domain.password_policy` and differs from the current one
  (``unchanged``). Every other session of the user ends; the one named by ``keep`` (where
  the change was made) goes on. A pending forced change is thereby done.
- :func:`reset`: an admin sets another user's password under the rules of
  :mod:`archive_app.permissions` (no account cleared above the admin, never their own:
  they change that with their current password). The user must change it at their next
  login, and every session of theirs ends.
- :func:`set_password` (the command line, which has no current password to ask): the
  acting user's own password is changed; anybody else's is reset as above.
  :func:`require_may_set` refuses before the new password is even asked for.

Audit entries ``password.change`` and ``password.reset`` say what happened, never a
password or a hash.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive_app.domain.password_policy import DESCRIPTIONS, weaknesses
from archive_app.errors import PasswordRefused, PermissionDenied
from archive_app.infra.passwords import hash_password, verify_password
from archive_app.models import User
from archive_app.permissions import Capability, may_manage_user, require
from archive_app.services import audit, login_sessions
from archive_app.services.users import get_user

WRONG_CURRENT = "wrong_current"
UNCHANGED = "unchanged"


def change_own(
    session: Session, user: User, *, current: str, new: str, keep: str | None = None
) -> int:
    """Change ``user``'s own password; returns how many of their other sessions ended."""
    if not verify_password(user.password_hash, current):
        audit.record(
            session, user, "password.change_failed", "user", user.username, outcome=audit.FAILED
        )
        # The failed attempt must stay on record although the operation fails.
        session.commit()
        raise PasswordRefused({"current_password": "is not your current password"}, [WRONG_CURRENT])
    return _change(session, user, new, keep=keep, via="form")


def require_may_set(session: Session, actor: User, username: str) -> User:
    """The account whose password ``actor`` may set, or the refusal, asked before the new
    password is read."""
    if actor.username == username.strip().lower():
        return actor
    require(actor, Capability.MANAGE_USERS)
    user = get_user(session, username)
    if not may_manage_user(actor, user):
        raise PermissionDenied(
            f"reset the password of {user.username!r} (cleared above you)", actor.username
        )
    return user


def reset(session: Session, actor: User, username: str, *, new: str) -> User:
    """Set another user's password; they must change it at their next login."""
    user = require_may_set(session, actor, username)
    if user.id == actor.id:
        raise PermissionDenied(
            "reset their own password (change it with the current password instead)",
            actor.username,
        )
    _require_acceptable(user, new)
    user.password_hash = hash_password(new)
    user.must_change_password = True
    ended = login_sessions.end_all(session, user, "password reset")
    audit.record(
        session,
        actor,
        "password.reset",
        "user",
        user.username,
        after={"must_change_password": True, "sessions_ended": ended},
    )
    return user


def set_password(session: Session, actor: User, username: str, *, new: str) -> User:
    """The command line's ``users set-password``: own password changed, another reset."""
    user = require_may_set(session, actor, username)
    if user.id == actor.id:
        _change(session, user, new, keep=None, via="command line")
        return user
    return reset(session, actor, username, new=new)


def _change(session: Session, user: User, new: str, *, keep: str | None, via: str) -> int:
    _require_acceptable(user, new)
    forced = user.must_change_password
    user.password_hash = hash_password(new)
    user.must_change_password = False
    ended = login_sessions.end_all(session, user, "password changed", keep=keep)
    audit.record(
        session,
        user,
        "password.change",
        "user",
        user.username,
        before={"must_change_password": forced},
        after={"must_change_password": False, "sessions_ended": ended, "via": via},
    )
    return ended


def _require_acceptable(user: User, new: str) -> None:
    found = weaknesses(new, user.username)
    reasons: list[str] = [weakness.value for weakness in found]
    messages = [DESCRIPTIONS[weakness] for weakness in found]
    if not reasons and verify_password(user.password_hash, new):
        reasons.append(UNCHANGED)
        messages.append("must differ from the current password")
    if reasons:
        raise PasswordRefused({"password": "; ".join(messages)}, reasons)
