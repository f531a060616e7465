"""Notifications for the people who act on them: one table (``RetentionNotification``),
several kinds, each readable with one capability.

- ``appraisal``: the periodic appraisal (鉴定) found records eligible for destruction
  (:mod:`archive_app.services.retention.appraisal`); for whoever reads retention
  (compliance, auditors, admins).
- ``inspection``: a periodic inspection found problems or could not run
  (:mod:`archive_app.services.inspection_runs`); for whoever may run the inspection
  (compliance and admins), since they are the ones to act on it.

Contract: :func:`list_notifications` and :func:`mark_read` refuse a user who may read no
kind (:class:`PermissionDenied`); both, and :func:`unread_count`, see only the kinds the
user may read, so marking read never hides a note from the people it is meant for.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_app.errors import PermissionDenied
from archive_app.models import RetentionNotification, User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, allowed

APPRAISAL = "appraisal"
INSPECTION = "inspection"

KIND_CAPABILITY = {
    APPRAISAL: Capability.READ_RETENTION,
    INSPECTION: Capability.INSPECT,
}


def readable_kinds(actor: User) -> list[str]:
    return [kind for kind, capability in KIND_CAPABILITY.items() if allowed(actor, capability)]


def _require_kinds(actor: User) -> list[str]:
    kinds = readable_kinds(actor)
    if not kinds:
        raise PermissionDenied(Capability.READ_RETENTION.value, actor.username)
    return kinds


def list_notifications(
    session: Session, actor: User, *, limit: int = 50
) -> list[RetentionNotification]:
    """Newest first."""
    kinds = _require_kinds(actor)
    return list(
        session.scalars(
            select(RetentionNotification)
            .where(RetentionNotification.kind.in_(kinds))
            .order_by(RetentionNotification.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, actor: User) -> int:
    kinds = readable_kinds(actor)
    if not kinds:
        return 0
    return (
        session.scalar(
            select(func.count(RetentionNotification.id)).where(
                RetentionNotification.read_at.is_(None), RetentionNotification.kind.in_(kinds)
            )
        )
        or 0
    )


def mark_read(session: Session, actor: User) -> None:
    kinds = _require_kinds(actor)
    now = utcnow()
    for note in session.scalars(
        select(RetentionNotification).where(
            RetentionNotification.read_at.is_(None), RetentionNotification.kind.in_(kinds)
        )
    ):
        note.read_at = now
