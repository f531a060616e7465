"""User accounts: creation, authentication, role and clearance changes, language choice.

Clearance is never granted upwards: an admin creates and changes only accounts cleared no
higher than themselves, grants no clearance above their own, and never changes their own
role or clearance (another admin does). Otherwise a low-cleared admin could raise
themselves, or an account they control, into archives they may not see.
"""

from __future__ import annotations

import re
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.errors import (
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    UsernameTaken,
    ValidationFailed,
)
from archive_app.infra.passwords import (
    MIN_PASSWORD_LENGTH,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from archive_app.models import User
from archive_app.models.user import DEFAULT_CLEARANCE, Level, Role
from archive_app.permissions import Capability, may_grant_clearance, may_manage_user, require
from archive_app.services import audit, login_sessions, refusals

_USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")


def _validate(username: str, role: str, password: str, clearance: str | None) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not _USERNAME.fullmatch(username):
        problems["username"] = (
            "use 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter"
        )
    if role not in {r.value for r in Role}:
        problems["role"] = f"must be one of {', '.join(r.value for r in Role)}"
    if len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    if clearance is not None and clearance not in {level.value for level in Level}:
        problems["clearance"] = f"must be one of {', '.join(level.value for level in Level)}"
    return problems


def require_may_create(actor: User) -> None:
    """Refuse before anything is asked of the user (a password, say) if they may not."""
    require(actor, Capability.MANAGE_USERS)


def create_user(
    session: Session,
    actor: User | None,
    *,
    username: str,
    role: str,
    password: str,
    display_name: str = "",
    clearance: str | None = None,
) -> User:
    """Create an account. ``actor`` is None only while bootstrapping the instance."""
    if actor is not None:
        require_may_create(actor)
    username = username.strip().lower()
    problems = _validate(username, role, password, clearance)
    if problems:
        raise ValidationFailed(problems)
    level = Level(clearance) if clearance else DEFAULT_CLEARANCE[Role(role)]
    if actor is not None and not may_grant_clearance(actor, level):
        raise ValidationFailed({"clearance": _above_own(actor)})
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UsernameTaken(username)
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        role=Role(role),
        clearance=level,
        password_hash=hash_password(password),
        active=True,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.create",
        "user",
        user.username,
        after={"role": user.role.value, "clearance": user.clearance.value, "active": True},
    )
    return user


def authenticate(
    session: Session, username: str, password: str, *, remote_addr: str | None = None
) -> User:
    """The active user with this name and password, or :class:`AuthenticationFailed`.
    A failure is recorded (the name typed, the reason, ``remote_addr``; never the
    password) within the bounds of :mod:`archive_app.services.refusals`."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        verify_password(dummy_hash(), password)
        _failed(session, username, "unknown user", remote_addr)
    elif not verify_password(user.password_hash, password):
        _failed(session, username, "wrong password", remote_addr)
    elif not user.active:
        _failed(session, username, "account inactive", remote_addr)
    assert user is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(session, user, "user.login", "user", user.username)
    return user


def _failed(session: Session, username: str, reason: str, remote_addr: str | None) -> NoReturn:
    if refusals.record_failed_login(session, username, reason, remote_addr):
        # The failed attempt must stay on record although the operation fails.
        session.commit()
    raise AuthenticationFailed()


def update_user(
    session: Session,
    actor: User,
    username: str,
    *,
    role: str | None = None,
    clearance: str | None = None,
    active: bool | None = None,
) -> User:
    require(actor, Capability.MANAGE_USERS)
    user = get_user(session, username)
    if not may_manage_user(actor, user):
        raise PermissionDenied(f"manage user {user.username!r} (cleared above you)", actor.username)
    problems: dict[str, str] = {}
    if role is not None and role not in {r.value for r in Role}:
        problems["role"] = f"must be one of {', '.join(r.value for r in Role)}"
    if clearance is not None and clearance not in {level.value for level in Level}:
        problems["clearance"] = f"must be one of {', '.join(level.value for level in Level)}"
    elif clearance is not None and not may_grant_clearance(actor, clearance):
        problems["clearance"] = _above_own(actor)
    if user.id == actor.id:
        if active is False:
            problems["active"] = "you cannot deactivate yourself"
        if role is not None and role != user.role.value:
            problems["role"] = "you cannot change your own role; another admin can"
        if clearance is not None and clearance != user.clearance.value:
            problems["clearance"] = "you cannot change your own clearance; another admin can"
    if problems:
        raise ValidationFailed(problems)
    before = {"role": user.role.value, "clearance": user.clearance.value, "active": user.active}
    if role is not None:
        user.role = Role(role)
    if clearance is not None:
        user.clearance = Level(clearance)
    if active is not None:
        if user.active and not active:
            login_sessions.end_all(session, user, "deactivated")
        user.active = active
    after = {"role": user.role.value, "clearance": user.clearance.value, "active": user.active}
    if after != before:
        audit.record(
            session, actor, "user.update", "user", user.username, before=before, after=after
        )
    return user


def _above_own(actor: User) -> str:
    return f"is above your own clearance ({Level(actor.clearance).value})"


def set_language(session: Session, user: User, language: str) -> None:
    if user.language != language:
        user.language = language
        session.flush()


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound("user", username)
    return user


def list_users(session: Session, actor: User) -> list[User]:
    require(actor, Capability.MANAGE_USERS)
    return list(session.scalars(select(User).order_by(User.username)))


_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


def set_email(session: Session, actor: User, username: str, email: str | None) -> User:
    """Set (or with None/empty clear) where ``username``'s reminders are mailed. Users set
    their own; an admin sets those of accounts they may manage."""
    user = get_user(session, username)
    if user.id != actor.id:
        require(actor, Capability.MANAGE_USERS)
        if not may_manage_user(actor, user):
            raise PermissionDenied(
                f"manage user {user.username!r} (cleared above you)", actor.username
            )
    value = (email or "").strip() or None
    if value is not None and (len(value) > 254 or not _EMAIL.fullmatch(value)):
        raise ValidationFailed({"email": "is not an e-mail address (name@example.com)"})
    if value != user.email:
        audit.record(
            session,
            actor,
            "user.email",
            "user",
            user.username,
            before={"email": user.email},
            after={"email": value},
        )
        user.email = value
    return user
