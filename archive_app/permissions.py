"""Who may do what: capabilities per role, and visibility by confidentiality level.

Roles grant capabilities; a user's clearance (a confidentiality level) limits which
archives they may see at all. Services call :func:`require`; the web layer uses
:func:`allowed` only to decide which links to show.
"""

from __future__ import annotations

import enum

from archive_app.errors import PermissionDenied
from archive_app.models.user import Level, Role, User


class Capability(enum.StrEnum):
    VIEW_ARCHIVES = "view archives"
    MANAGE_ARCHIVES = "create or edit archives"
    FILE_DOCUMENTS = "file or edit documents"
    MANAGE_USERS = "manage users"
    READ_AUDIT = "read the audit trail"
    MANAGE_BACKUPS = "back up or restore the instance"


ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.ARCHIVIST: frozenset(
        {Capability.VIEW_ARCHIVES, Capability.MANAGE_ARCHIVES, Capability.FILE_DOCUMENTS}
    ),
    Role.STAFF: frozenset({Capability.VIEW_ARCHIVES}),
    Role.COMPLIANCE: frozenset({Capability.VIEW_ARCHIVES, Capability.READ_AUDIT}),
    Role.AUDITOR: frozenset({Capability.VIEW_ARCHIVES, Capability.READ_AUDIT}),
    Role.ADMIN: frozenset(Capability),
}


def allowed(user: User, capability: Capability) -> bool:
    return user.active and capability in ROLE_CAPABILITIES[Role(user.role)]


def require(user: User, capability: Capability) -> None:
    if not allowed(user, capability):
        raise PermissionDenied(capability.value, user.username)


def visible_levels(user: User) -> list[Level]:
    """The confidentiality levels this user may see, lowest first."""
    return [level for level in Level if user.may_see(level)]
