"""Throttling: the one module that owns the web app's rate limiter (Flask-Limiter).

Contract:

- :func:`install` builds the app's :class:`~flask_limiter.Limiter` with its counts in
  ``Settings.resolved_ratelimit_storage_url`` (Redis when the instance has Redis, so every
  web process shares them; else this process's memory) and no default limits: only what
  is asked for is limited. Other blueprints (a JSON API) limit their views with
  ``limiter().limit("N per PERIOD")``, on the same storage; a breach answers 429 with
  ``Retry-After`` (:func:`too_many` is the shape of that answer).
- Failed logins are limited per remote address (``ARCHIVE_LOGIN_ADDRESS_LIMIT``) and per
  account name (``ARCHIVE_LOGIN_ACCOUNT_LIMIT``, counted from the account's last unlock).
  :func:`login_wait` is asked before a password is checked: the seconds to wait, or None.
  :func:`login_failed` counts a failure against both; an existing account whose
  allowance is used up is locked for the limit's period
  (:mod:`archive_app.services.lockouts`, in the database, where an admin unlocks it). A
  name that is no account is throttled the same way, from the counts alone, so a 429
  does not tell whether an account exists.
- API calls (``/api/v1``) are limited per token user (``ARCHIVE_API_USER_LIMIT``) and per
  remote address (``ARCHIVE_API_ADDRESS_LIMIT``): :func:`api_call` counts one call and raises
  :class:`~archive_app.errors.Throttled` (429, ``Retry-After``) beyond either. The first
  throttled call of each window is recorded in the audit trail (``api.throttled``); the
  rest are not, so a flood of calls cannot flood the trail.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.strategies import RateLimiter
from sqlalchemy.orm import Session

from archive_app.errors import Throttled
from archive_app.infra.config import Settings, parse_rate
from archive_app.services import lockouts

_EXTENSION = "archive.throttle"
ADDRESS = "login-address"
ACCOUNT = "login-account"
API_USER = "api-user"
API_ADDRESS = "api-address"
API_NOTED = "api-throttle-noted"


@dataclass(frozen=True)
class _Throttle:
    limiter: Limiter
    account: RateLimitItem
    address: RateLimitItem
    api_user: RateLimitItem
    api_address: RateLimitItem

    @property
    def counts(self) -> RateLimiter:
        return self.limiter.limiter


def install(app: Flask, settings: Settings) -> None:
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.resolved_ratelimit_storage_url,
        strategy="moving-window",
        headers_enabled=True,
        # Instances sharing one Redis keep their counts apart.
        key_prefix=f"archive:{settings.queue_name}",
        default_limits=[],
    )
    app.extensions[_EXTENSION] = _Throttle(
        limiter,
        account=parse_rate("ARCHIVE_LOGIN_ACCOUNT_LIMIT", settings.login_account_limit),
        address=parse_rate("ARCHIVE_LOGIN_ADDRESS_LIMIT", settings.login_address_limit),
        api_user=parse_rate("ARCHIVE_API_USER_LIMIT", settings.api_user_limit),
        api_address=parse_rate("ARCHIVE_API_ADDRESS_LIMIT", settings.api_address_limit),
    )


def limiter() -> Limiter:
    """The current app's limiter, for views that want a limit of their own."""
    return _throttle().limiter


def _throttle() -> _Throttle:
    return current_app.extensions[_EXTENSION]


def _address() -> str:
    return request.remote_addr or "unknown"


def _account_key(session: Session, username: str) -> tuple[str, str]:
    name = username.strip().lower()[:64]
    return name, lockouts.count_start(lockouts.find(session, name))


def _wait(item: RateLimitItem, *identifiers: str) -> int:
    stats = _throttle().counts.get_window_stats(item, *identifiers)
    return max(1, math.ceil(stats.reset_time - time.time()))


def login_wait(session: Session, username: str) -> int | None:
    """Seconds before this address may try again, or this account be tried; None: go on."""
    throttle = _throttle()
    if not throttle.counts.test(throttle.address, ADDRESS, _address()):
        return _wait(throttle.address, ADDRESS, _address())
    locked = lockouts.remaining(session, lockouts.find(session, username))
    session.commit()  # a lock whose time is up stays recorded as lifted, whatever follows
    if locked is not None:
        return locked
    key = _account_key(session, username)
    if not throttle.counts.test(throttle.account, ACCOUNT, *key):
        return _wait(throttle.account, ACCOUNT, *key)
    return None


def login_failed(session: Session, username: str) -> None:
    """Count a failed login against the address and the account name."""
    throttle = _throttle()
    throttle.counts.hit(throttle.address, ADDRESS, _address())
    key = _account_key(session, username)
    throttle.counts.hit(throttle.account, ACCOUNT, *key)
    if throttle.counts.get_window_stats(throttle.account, ACCOUNT, *key).remaining > 0:
        return
    user = lockouts.find(session, username)
    if user is not None:
        lockouts.lock(
            session,
            user,
            seconds=throttle.account.get_expiry(),
            remote_addr=request.remote_addr,
            failures=throttle.account.amount,
        )
        session.commit()


def api_call(session: Session, user_id: int) -> None:
    """Count one API call of ``user_id`` from this address; raise ``Throttled`` beyond the
    allowance of either (the call is then not counted)."""
    throttle = _throttle()
    for item, kind, identifier in (
        (throttle.api_user, API_USER, str(user_id)),
        (throttle.api_address, API_ADDRESS, _address()),
    ):
        if throttle.counts.hit(item, kind, identifier):
            continue
        wait = _wait(item, kind, identifier)
        # One audit entry per breached window: the window's own length bounds the marker.
        marker = RateLimitItemPerSecond(1, max(1, item.get_expiry()))
        if throttle.counts.hit(marker, API_NOTED, kind, identifier):
            lockouts.record_api_throttled(
                session,
                user_id,
                limit=str(item),
                retry_after=wait,
                per=kind,
                where=f"{request.method} {request.path}",
                remote_addr=request.remote_addr,
            )
            session.commit()
        raise Throttled(wait, str(item))


def too_many(response: Response, seconds: int) -> Response:
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    return response
