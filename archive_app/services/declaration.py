"""Who may review checklist lines and who may change a declared record.

Decisions (kept here so the checklist, the document edit and every front end share them):

- **Reviewers** are archivists and admins: the people who know what a correct line looks
  like. Nobody ever confirms or rejects a line they filed (the line's responsible
  archivist) or submitted themselves; that is the four-eyes rule (双人复核).
- **After declaration** the metadata of a record may be changed only by compliance or an
  admin; the change is audited with before and after values like any edit. The original
  file never changes: a corrected scan is a new version, which an archivist may add and
  which must be reviewed again (see :mod:`archive_app.services.versions`).
- **Changing metadata while a line awaits review** sends the line back to draft: the
  reviewer confirms what was submitted, nothing else.
"""

from __future__ import annotations

from archive_app.errors import PermissionDenied
from archive_app.models.checklist import ChecklistState
from archive_app.models.document import Document
from archive_app.models.user import Role, User

REVIEWER_ROLES = frozenset({Role.ARCHIVIST, Role.ADMIN})
AMENDING_ROLES = frozenset({Role.COMPLIANCE, Role.ADMIN})

REVIEW_ACTION = "review filing checklist lines"
AMEND_ACTION = "change the metadata of a declared record"


def may_review(user: User) -> bool:
    return user.active and Role(user.role) in REVIEWER_ROLES


def require_reviewer(user: User) -> None:
    if not may_review(user):
        raise PermissionDenied(REVIEW_ACTION, user.username)


def may_amend_declared(user: User) -> bool:
    return user.active and Role(user.role) in AMENDING_ROLES


def require_amend_declared(user: User) -> None:
    if not may_amend_declared(user):
        raise PermissionDenied(AMEND_ACTION, user.username)


def withdraw_changed_line(document: Document) -> bool:
    """Metadata changed while the line awaited review: what the reviewer would confirm is
    no longer what was submitted, so the line goes back to draft to be submitted again.
    Returns True when it did."""
    line = document.checklist_line
    if line is None or line.state != ChecklistState.AWAITING_REVIEW:
        return False
    line.state = ChecklistState.DRAFT
    line.submitted_by_id = None
    line.submitted_at = None
    return True
