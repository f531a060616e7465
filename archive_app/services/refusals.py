"""Refused and failed attempts in the audit trail.

Contract:

- :func:`is_refusal` says which errors are permission refusals: every error answered with
  HTTP 403 (:class:`PermissionDenied` with :class:`ClearanceInsufficient`,
  :class:`RecordRestricted`, the four-eyes rule's refusal), and
  :class:`HiddenByClearance` (an object above the user's clearance, answered as "not
  found" but recorded as what it is).
- :func:`record_refusal` appends one ``access.refused`` entry, outcome ``refused``: the
  user, where (``GET /audit``, ``archive audit list``), the refused capability or object,
  and the reason. The front ends call it from the one place that maps errors to an HTTP
  status or exit code, *after* rolling back the refused operation, in a transaction of
  its own so that the refusal stays although the operation did not happen. Only logged-in
  users and CLI actors reach it: anonymous web requests are sent to the login page first.
- :func:`record_failed_login` appends one ``user.login_failed`` entry, outcome
  ``failed``, with the user name typed (as the object), the reason and the remote address,
  never the password. Its actor is ``anonymous``.

**Flooding.** A refusal is recorded every time: it is made by a known account, and the
record is the evidence against that account. Failed logins come from anyone, so they are
bounded: at most :data:`PER_ADDRESS` entries per remote address and :data:`OVERALL`
entries in all per :data:`WINDOW` (for known and unknown names alike; a flood of one
real name from one address is the same flood). The entry that reaches a bound says so
(``"bounded": true``), so an auditor knows that further attempts in that window were not
recorded one by one. The trail then grows by at most ``OVERALL`` failed-login entries per
window (28,800 a day), whatever is sent; the counts are read before the chain is locked,
so two attempts at the same moment may both pass a bound by one.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_app.errors import AppError, HiddenByClearance, PermissionDenied
from archive_app.infra.db import Database
from archive_app.models import AuditEntry, User
from archive_app.models.base import utcnow
from archive_app.services import audit

REFUSED_ACTION = "access.refused"
FAILED_LOGIN_ACTION = "user.login_failed"
ANONYMOUS = "anonymous"
WINDOW = timedelta(minutes=10)
PER_ADDRESS = 20
OVERALL = 200
_NAME_LENGTH = 64


def is_refusal(error: BaseException) -> bool:
    return isinstance(error, AppError) and (
        error.http_status == 403 or isinstance(error, HiddenByClearance)
    )


def _refusal_values(error: AppError, where: str) -> tuple[str, str, dict[str, str]]:
    """(object type, object id, values) of a refusal."""
    values = {"where": where, "reason": str(error), "code": error.code}
    if isinstance(error, HiddenByClearance):
        return error.kind, error.identifier, {**values, "reason": "above the user's clearance"}
    document = getattr(error, "document", None)
    if isinstance(document, str):
        return "document", document, values
    if isinstance(error, PermissionDenied):
        return "capability", error.action[:128], values
    return "request", where[:128], values


def record_refusal(
    database: Database, username: str | None, error: AppError, *, where: str
) -> None:
    """Record a refusal of ``username`` (the acting user) in a transaction of its own."""
    object_type, object_id, values = _refusal_values(error, where)
    with database.session() as session:
        actor = session.scalar(select(User).where(User.username == username)) if username else None
        audit.record(
            session,
            actor,
            REFUSED_ACTION,
            object_type,
            object_id,
            after=values,
            outcome=audit.REFUSED,
            actor_name=None if actor is not None else (username or ANONYMOUS)[:_NAME_LENGTH],
        )


def _printable(name: str) -> str:
    cleaned = "".join(ch for ch in name.strip().lower() if ch.isprintable())
    return cleaned[:_NAME_LENGTH] or "(empty)"


def _recent_failures(session: Session, remote_addr: str | None) -> tuple[int, int]:
    since = utcnow() - WINDOW
    recent = select(func.count()).where(
        AuditEntry.action == FAILED_LOGIN_ACTION, AuditEntry.at >= since
    )
    overall = int(session.scalar(recent) or 0)
    address = AuditEntry.after["remote_addr"].as_string()
    from_address = int(session.scalar(recent.where(address == (remote_addr or ""))) or 0)
    return overall, from_address


def record_failed_login(
    session: Session, attempted: str, reason: str, remote_addr: str | None
) -> bool:
    """Record a failed login unless a bound is reached; True when it was recorded."""
    overall, from_address = _recent_failures(session, remote_addr)
    if overall >= OVERALL or from_address >= PER_ADDRESS:
        return False
    values: dict[str, object] = {
        "reason": reason,
        "remote_addr": remote_addr or "",
    }
    if overall + 1 >= OVERALL or from_address + 1 >= PER_ADDRESS:
        scope = "from this address" if from_address + 1 >= PER_ADDRESS else "from anywhere"
        minutes = int(WINDOW.total_seconds() // 60)
        values["bounded"] = True
        values["note"] = f"further failed logins {scope} are not recorded for {minutes} minutes"
    name = _printable(attempted)
    audit.record(
        session,
        None,
        FAILED_LOGIN_ACTION,
        "user",
        name,
        after=values,
        outcome=audit.FAILED,
        actor_name=ANONYMOUS,
    )
    return True
