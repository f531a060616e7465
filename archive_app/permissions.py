"""Who may do what to which object: the one place every rule of access is written.

Three things decide, always together:

- **Role** grants capabilities (:data:`ROLE_CAPABILITIES`).
- **Clearance**: a user sees an archive, its records and anything naming them (plans,
  destruction lists, holds, certificates, erasure requests) only when the archive's
  confidentiality level is at or below the user's clearance. An object out of sight is
  reported as not found, so its existence is not revealed either.
- **The erasure restriction**: once a customer has asked for erasure, the records that
  must still be kept are restricted to storage and security: only compliance users see
  them, and nobody but compliance opens their content (PIPL art. 47).

Services call ``require*``/``ensure*`` before acting; the web and CLI ask ``allowed`` and
``may_*`` only to decide what to show, never to restate a rule.
"""

from __future__ import annotations

import enum
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.errors import HiddenByClearance, NotFound, PermissionDenied, RecordRestricted
from archive_app.models import CustomerArchive, Document, ErasureRequest
from archive_app.models.user import Level, Role, User


class Capability(enum.StrEnum):
    VIEW_ARCHIVES = "view archives"
    MANAGE_ARCHIVES = "create or edit archives"
    FILE_DOCUMENTS = "file or edit documents"
    ANNOTATE_DOCUMENTS = "tag documents and write notes on them"
    REVIEW_CHECKLIST = "review filing checklist lines"
    AMEND_DECLARED = "change the metadata of a declared record"
    MANAGE_USERS = "manage users"
    READ_AUDIT = "read the audit trail"
    MANAGE_BACKUPS = "back up or restore the instance"
    READ_RETENTION = "read the retention schedule, holds, plans and destruction lists"
    MANAGE_RETENTION = "manage retention rules, holds, destruction lists and erasure requests"
    APPROVE_DESTRUCTION = "approve destruction lists (compliance only)"
    HANDLE_ERASURE = "take erasure requests and access restricted records (compliance only)"
    RECORD_EVENTS = "record retention events"
    INSPECT = "run the periodic inspection"
    READ_INSPECTIONS = "read the history of the periodic inspection"
    MAINTAIN_INDEX = "rebuild or check the search index"
    READ_YEAR_END = "read the year-end review"
    SIGN_OFF_YEAR_END = "sign off the year-end review (compliance only)"
    EXPORT_ARCHIVE = "export an archive for handover"
    MANAGE_CLASSES = "create, edit or retire document classes and their fields"


_ARCHIVIST = {
    Capability.VIEW_ARCHIVES,
    Capability.MANAGE_ARCHIVES,
    Capability.FILE_DOCUMENTS,
    Capability.ANNOTATE_DOCUMENTS,
    # Reviewers (复核) are archivists: the people who know what a correct line looks like.
    Capability.REVIEW_CHECKLIST,
    Capability.RECORD_EVENTS,
}
_COMPLIANCE = {
    Capability.VIEW_ARCHIVES,
    Capability.READ_AUDIT,
    # Tags and notes organise and comment records; they never change a record's content.
    Capability.ANNOTATE_DOCUMENTS,
    # After declaration a record's metadata changes only under compliance's eye.
    Capability.AMEND_DECLARED,
    Capability.READ_RETENTION,
    Capability.MANAGE_RETENTION,
    # Approvals count distinct compliance users: the heads the accounting rules name.
    Capability.APPROVE_DESTRUCTION,
    # Records kept after an erasure request are for storage and security only.
    Capability.HANDLE_ERASURE,
    Capability.RECORD_EVENTS,
    Capability.INSPECT,
    Capability.READ_INSPECTIONS,
    Capability.MAINTAIN_INDEX,
    Capability.READ_YEAR_END,
    # The accounting-archive rules put the year-end check in the hands of compliance.
    Capability.SIGN_OFF_YEAR_END,
    # A handover (移交) package holds every original: compliance and admins only.
    Capability.EXPORT_ARCHIVE,
}

ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.ARCHIVIST: frozenset(_ARCHIVIST),
    Role.STAFF: frozenset({Capability.VIEW_ARCHIVES}),
    Role.COMPLIANCE: frozenset(_COMPLIANCE),
    Role.AUDITOR: frozenset(
        {
            Capability.VIEW_ARCHIVES,
            Capability.READ_AUDIT,
            Capability.READ_RETENTION,
            Capability.READ_INSPECTIONS,
            Capability.READ_YEAR_END,
        }
    ),
    # Admins may do everything except approve destructions (approvers are compliance),
    # handle what an erasure request restricts to compliance, and sign off a year-end review.
    Role.ADMIN: frozenset(
        set(Capability)
        - {
            Capability.APPROVE_DESTRUCTION,
            Capability.HANDLE_ERASURE,
            Capability.SIGN_OFF_YEAR_END,
        }
    ),
}


def allowed(user: User, capability: Capability) -> bool:
    return user.active and capability in ROLE_CAPABILITIES[Role(user.role)]


def require(user: User, capability: Capability) -> None:
    if not allowed(user, capability):
        raise PermissionDenied(capability.value, user.username)


def may_edit_metadata(user: User, document: Document) -> bool:
    """Before declaration the filing archivists edit a record; after it, its metadata is
    amended only by compliance or an admin (audited with before and after values)."""
    if document.is_declared:
        return allowed(user, Capability.AMEND_DECLARED)
    return allowed(user, Capability.FILE_DOCUMENTS)


def require_edit_metadata(user: User, document: Document) -> None:
    if not may_edit_metadata(user, document):
        capability = (
            Capability.AMEND_DECLARED if document.is_declared else Capability.FILE_DOCUMENTS
        )
        raise PermissionDenied(capability.value, user.username)


# --- clearance ------------------------------------------------------------------------------


def may_see_level(user: User, level: Level | str) -> bool:
    return user.active and user.may_see(Level(level))


def visible_levels(user: User) -> list[Level]:
    """The confidentiality levels this user may see, lowest first."""
    return [level for level in Level if may_see_level(user, level)]


def may_grant_clearance(actor: User, level: Level | str) -> bool:
    """Nobody hands out a clearance above their own: a low-clearance admin could otherwise
    create a secret-cleared account and log in with it."""
    return may_see_level(actor, level)


def may_manage_user(actor: User, user: User) -> bool:
    """An admin manages accounts cleared no higher than themselves (changing such a user's
    role, clearance or state would otherwise be a way into what the admin may not see)."""
    return allowed(actor, Capability.MANAGE_USERS) and may_see_level(actor, user.clearance)


# --- the erasure restriction ------------------------------------------------------------------


def restricted_archive_ids(session: Session) -> set[int]:
    """Archives under an erasure request: their live records are restricted."""
    return set(session.scalars(select(ErasureRequest.archive_id)))


def is_restricted(session: Session, archive_id: int) -> bool:
    found = session.scalar(
        select(ErasureRequest.id).where(ErasureRequest.archive_id == archive_id).limit(1)
    )
    return found is not None


def sees_restricted(user: User) -> bool:
    return allowed(user, Capability.HANDLE_ERASURE)


# --- records ---------------------------------------------------------------------------------


class Sight:
    """What one user may see of records, answered for many records without a query each.

    Built once per use case (``Sight.of(session, user)``), then asked per record with the
    record's archive id and level. A destroyed record is never restricted (its stub holds
    no content), so ``destroyed=True`` skips that part.
    """

    def __init__(self, user: User, levels: Collection[Level], restricted: set[int]) -> None:
        self.user = user
        self.levels = frozenset(levels)
        self.restricted = restricted

    @classmethod
    def of(cls, session: Session, user: User) -> Sight:
        restricted = set() if sees_restricted(user) else restricted_archive_ids(session)
        return cls(user, visible_levels(user), restricted)

    def archive(self, level: Level | str) -> bool:
        return Level(level) in self.levels

    def record(self, archive_id: int, level: Level | str, *, destroyed: bool = False) -> bool:
        if Level(level) not in self.levels:
            return False
        return destroyed or archive_id not in self.restricted


def require_archive_visible(user: User, archive: CustomerArchive | None, number: str) -> None:
    """Refuse, as not found, a missing archive or one above the user's clearance."""
    if archive is None:
        raise NotFound("archive", number)
    if not may_see_level(user, archive.level):
        raise HiddenByClearance("archive", number, user.username)


def require_record(session: Session, user: User, document: Document | None, number: str) -> None:
    """Refuse a record the user may not act on: not found when it is missing or above
    their clearance; restricted when an erasure request keeps it for compliance only."""
    if document is None:
        raise NotFound("document", number)
    if not may_see_level(user, document.archive.level):
        raise HiddenByClearance("document", number, user.username)
    ensure_content_accessible(session, user, document)


def ensure_content_accessible(session: Session, user: User, document: Document) -> None:
    """Content of a record restricted after an erasure request is for compliance only."""
    if (
        not document.is_destroyed
        and not sees_restricted(user)
        and is_restricted(session, document.archive_id)
    ):
        raise RecordRestricted(document.number, user.username)


# --- API tokens ------------------------------------------------------------------------------


def may_manage_tokens(actor: User, owner: User) -> bool:
    """A user manages their own tokens; an admin those of the accounts they may manage (a
    token acts with its owner's role and clearance, so it is no wider a door than that)."""
    if not actor.active:
        return False
    return actor.id == owner.id or may_manage_user(actor, owner)


def require_manage_tokens(actor: User, owner: User) -> None:
    if not may_manage_tokens(actor, owner):
        raise PermissionDenied(f"manage the API tokens of {owner.username}", actor.username)
