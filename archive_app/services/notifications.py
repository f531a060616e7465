"""Notifications for the people who act on them: one table (``RetentionNotification``),
several kinds, each readable with one capability, read per user.

- ``appraisal``: the periodic appraisal (鉴定) found records eligible for destruction
  (:mod:`archive_app.services.retention.appraisal`); for whoever reads retention
  (compliance, auditors, admins).
- ``inspection``: a periodic inspection found problems or could not run
  (:mod:`archive_app.services.inspection_runs`, and again each day by the reminders while
  the latest run stays failed); for whoever may run the inspection (compliance and
  admins), since they are the ones to act on it.
- ``review``: checklist lines of one archive waiting in the review queue longer than
  ``ARCHIVE_REMINDER_REVIEW_DAYS`` (:mod:`archive_app.services.reminders`); for reviewers.
- ``approval``: a destruction list reviewed in full and waiting for approvals; for
  approvers (compliance only).

Contract: a note whose ``level`` is set is seen only by a reader cleared for that level.
:func:`list_notifications` and :func:`mark_read` refuse a user who may read no kind
(:class:`PermissionDenied`); all functions see only the notes the user may read, so
nobody learns of a subject out of their sight. Reading is recorded per user
(``NotificationRead``): marking read never hides a note from anyone else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from archive_app.errors import NotFound, PermissionDenied
from archive_app.models import NotificationRead, RetentionNotification, User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, allowed, may_see_level, visible_levels

APPRAISAL = "appraisal"
INSPECTION = "inspection"
REVIEW = "review"
APPROVAL = "approval"

KIND_CAPABILITY = {
    APPRAISAL: Capability.READ_RETENTION,
    INSPECTION: Capability.INSPECT,
    REVIEW: Capability.REVIEW_CHECKLIST,
    APPROVAL: Capability.APPROVE_DESTRUCTION,
}


@dataclass(frozen=True)
class NoteView:
    """A note as one reader sees it."""

    note: RetentionNotification
    read: bool


def readable_kinds(actor: User) -> list[str]:
    return [kind for kind, capability in KIND_CAPABILITY.items() if allowed(actor, capability)]


def may_read(actor: User, note: RetentionNotification) -> bool:
    """For the e-mail of one note: the same rule as the queries below."""
    return note.kind in readable_kinds(actor) and (
        note.level is None or may_see_level(actor, note.level)
    )


def _require_kinds(actor: User) -> list[str]:
    kinds = readable_kinds(actor)
    if not kinds:
        raise PermissionDenied(Capability.READ_RETENTION.value, actor.username)
    return kinds


def _visible(actor: User, kinds: list[str]) -> list[ColumnElement[bool]]:
    levels = [level.value for level in visible_levels(actor)]
    return [
        RetentionNotification.kind.in_(kinds),
        or_(RetentionNotification.level.is_(None), RetentionNotification.level.in_(levels)),
    ]


def _unread(actor: User) -> ColumnElement[bool]:
    return ~exists().where(
        NotificationRead.notification_id == RetentionNotification.id,
        NotificationRead.user_id == actor.id,
    )


def list_notifications(
    session: Session, actor: User, *, limit: int = 50
) -> list[RetentionNotification]:
    """Newest first."""
    return [view.note for view in list_views(session, actor, limit=limit)]


def list_views(session: Session, actor: User, *, limit: int = 50) -> list[NoteView]:
    """Newest first, each with whether ``actor`` has read it."""
    kinds = _require_kinds(actor)
    notes = list(
        session.scalars(
            select(RetentionNotification)
            .where(*_visible(actor, kinds))
            .order_by(RetentionNotification.id.desc())
            .limit(limit)
        )
    )
    read = _read_ids(session, actor, [note.id for note in notes])
    return [NoteView(note, note.id in read) for note in notes]


def _read_ids(session: Session, actor: User, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(
        session.scalars(
            select(NotificationRead.notification_id).where(
                NotificationRead.user_id == actor.id, NotificationRead.notification_id.in_(ids)
            )
        )
    )


def unread_count(session: Session, actor: User) -> int:
    kinds = readable_kinds(actor)
    if not kinds:
        return 0
    return (
        session.scalar(
            select(func.count(RetentionNotification.id)).where(
                *_visible(actor, kinds), _unread(actor)
            )
        )
        or 0
    )


def mark_read(session: Session, actor: User, note_id: int | None = None) -> int:
    """Mark one note (``note_id``) or every note ``actor`` may read as read by ``actor``;
    returns how many were newly marked. A note out of the actor's sight is not found."""
    kinds = _require_kinds(actor)
    query = select(RetentionNotification.id).where(*_visible(actor, kinds), _unread(actor))
    if note_id is not None:
        query = query.where(RetentionNotification.id == note_id)
        if (
            session.scalar(
                select(RetentionNotification.id).where(
                    RetentionNotification.id == note_id, *_visible(actor, kinds)
                )
            )
            is None
        ):
            raise NotFound("notification", str(note_id))
    return _record_reads(session, actor, session.scalars(query))


def _record_reads(session: Session, actor: User, ids: Iterable[int]) -> int:
    now = utcnow()
    marked = 0
    for note_id in list(ids):
        session.add(NotificationRead(notification_id=note_id, user_id=actor.id, read_at=now))
        marked += 1
    session.flush()
    return marked
