"""Who may do what in retention, and the checks other use cases call.

Roles: compliance (合规/档案管理) keeps the schedule, holds, appraisal, approvals and
certificates; admin may do the same except approve (approvals must come from compliance
users, counted per distinct user); auditors may read. Archivists may record trigger events.

``ensure_changeable`` is the hook the document and checklist services call before any
change: a destroyed record or a held one (legal hold or unsettled claim) is refused with
a typed error. ``ensure_accessible`` restricts records under an erasure request to
compliance (storage and security only).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.errors import PermissionDenied
from archive_app.models import Document, ErasureRequest, User
from archive_app.models.user import Role
from archive_app.services.retention.errors import LegalHoldActive, RecordDestroyed, RecordRestricted

MANAGE = frozenset({Role.COMPLIANCE, Role.ADMIN})
READ = frozenset({Role.COMPLIANCE, Role.ADMIN, Role.AUDITOR})
EVENTS = frozenset({Role.COMPLIANCE, Role.ADMIN, Role.ARCHIVIST})
APPROVE = frozenset({Role.COMPLIANCE})
UNSETTLED_CLAIM_HOLD = "unsettled-claim"


def has(actor: User, roles: frozenset[Role]) -> bool:
    return actor.active and Role(actor.role) in roles


def require_role(actor: User, roles: frozenset[Role], action: str) -> None:
    if not has(actor, roles):
        raise PermissionDenied(action, actor.username)


def ensure_changeable(session: Session, document: Document) -> None:
    """Refuse any change to a destroyed or held record."""
    from archive_app.services.retention.holds import active_hold_names, unsettled_document_ids

    if document.is_destroyed:
        raise RecordDestroyed(document.number)
    names = set(active_hold_names(session, [document.id]).get(document.id, ()))
    if document.id in unsettled_document_ids(session):
        names.add(UNSETTLED_CLAIM_HOLD)
    if names:
        raise LegalHoldActive(document.number, names)


def is_restricted(session: Session, document: Document) -> bool:
    if document.is_destroyed:
        return False
    found = session.scalar(
        select(ErasureRequest.id).where(ErasureRequest.archive_id == document.archive_id).limit(1)
    )
    return found is not None


def ensure_accessible(session: Session, actor: User, document: Document) -> None:
    """Content of a record restricted after an erasure request is for compliance only."""
    if Role(actor.role) is not Role.COMPLIANCE and is_restricted(session, document):
        raise RecordRestricted(document.number)


def restricted_archive_ids(session: Session) -> set[int]:
    """Archives under an erasure request: search must leave their records out for everyone
    but compliance."""
    return set(session.scalars(select(ErasureRequest.archive_id)))
