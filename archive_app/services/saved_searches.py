"""Saved searches: a user's search (query and filters) kept under a name.

Names are unique per owner; saving under an existing name of one's own replaces it.
A shared search is offered to every user, and whoever runs a search runs it with their own
clearance: sharing a search never shares what it finds. A name resolves to the runner's
own search first, then to a search another user shared under that name (``OWNER/NAME``
picks one when several did). Only the owner deletes. Saving and deleting are audited
(``search.save``, ``search.delete``); running one is audited as the search it runs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive_app.errors import Conflict, NotFound, ValidationFailed
from archive_app.models import SavedSearch, User
from archive_app.permissions import Capability, require
from archive_app.search.queries import SearchParams
from archive_app.services import audit

MAX_NAME_CHARS = 100


def save_search(
    session: Session, actor: User, name: str, params: SearchParams, *, shared: bool = False
) -> SavedSearch:
    require(actor, Capability.VIEW_ARCHIVES)
    clean = " ".join(name.split())
    if not clean:
        raise ValidationFailed({"name": "is empty"})
    if len(clean) > MAX_NAME_CHARS or "/" in clean:
        raise ValidationFailed(
            {"name": f"must be at most {MAX_NAME_CHARS} characters, without '/'"}
        )
    values = params.form_values()
    saved = session.scalar(
        select(SavedSearch).where(SavedSearch.owner_id == actor.id, SavedSearch.name == clean)
    )
    before = {"params": saved.params, "shared": saved.shared} if saved else None
    if saved is None:
        saved = SavedSearch(owner_id=actor.id, name=clean, params=values, shared=shared)
        session.add(saved)
    else:
        saved.params, saved.shared = values, shared
    session.flush()
    audit.record(
        session,
        actor,
        "search.save",
        "saved_search",
        f"{actor.username}/{clean}",
        before=before,
        after={"params": values, "shared": shared},
    )
    return saved


def visible_searches(session: Session, actor: User) -> list[SavedSearch]:
    """The actor's own searches, then those others shared, each by name."""
    require(actor, Capability.VIEW_ARCHIVES)
    rows = session.scalars(
        select(SavedSearch)
        .where(or_(SavedSearch.owner_id == actor.id, SavedSearch.shared.is_(True)))
        .order_by(SavedSearch.name, SavedSearch.id)
    )
    return sorted(rows, key=lambda s: (s.owner_id != actor.id, s.name.casefold()))


def find_search(session: Session, actor: User, name: str) -> SavedSearch:
    """The search ``name`` (or ``OWNER/NAME``) as the actor may run it."""
    require(actor, Capability.VIEW_ARCHIVES)
    owner_name, _, plain = name.strip().rpartition("/")
    candidates = [
        s
        for s in visible_searches(session, actor)
        if s.name == plain and (not owner_name or s.owner.username == owner_name)
    ]
    own = [s for s in candidates if s.owner_id == actor.id]
    if own:
        return own[0]
    if not candidates:
        raise NotFound("saved search", name)
    if len(candidates) > 1:
        owners = ", ".join(f"{s.owner.username}/{s.name}" for s in candidates)
        raise Conflict(f"several users shared a search named {plain!r}; choose one of {owners}")
    return candidates[0]


def params_of(saved: SavedSearch, **paging: Any) -> SearchParams:
    """The saved search's parameters, with ``page``/``per_page`` if given."""
    params = SearchParams.parse(saved.params)
    return replace(params, **paging) if paging else params


def delete_search(session: Session, actor: User, name: str) -> None:
    require(actor, Capability.VIEW_ARCHIVES)
    saved = session.scalar(
        select(SavedSearch).where(SavedSearch.owner_id == actor.id, SavedSearch.name == name)
    )
    if saved is None:
        raise NotFound("saved search", name)
    audit.record(
        session,
        actor,
        "search.delete",
        "saved_search",
        f"{actor.username}/{saved.name}",
        before={"params": saved.params, "shared": saved.shared},
    )
    session.delete(saved)
