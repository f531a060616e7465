"""Where the paper original is (room / shelf / box / folder position), and every move.

The current place is kept on the document's checklist line; each change appends a
:class:`~archive_app.models.PaperLocationMove` (who, when, from, to, note) and an audit
entry with before/after values. Moving paper does not change the record, so declared
records may be moved too.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.errors import ValidationFailed
from archive_app.models import PaperLocationMove, User
from archive_app.models.base import utcnow
from archive_app.models.checklist import LOCATION_PARTS
from archive_app.permissions import Capability, require
from archive_app.services import audit
from archive_app.services.checklist import line_for

MAX_PART = 100
MAX_NOTE = 500


def set_location(
    session: Session,
    actor: User,
    number: str,
    *,
    room: str = "",
    shelf: str = "",
    box: str = "",
    position: str = "",
    note: str = "",
) -> PaperLocationMove | None:
    """Record the paper original's place; returns the move, or None if nothing changed."""
    require(actor, Capability.FILE_DOCUMENTS)
    wanted = {"room": room, "shelf": shelf, "box": box, "position": position}
    cleaned = {part: (wanted[part] or "").strip() for part in LOCATION_PARTS}
    problems = {
        part: f"is longer than {MAX_PART} characters"
        for part, value in cleaned.items()
        if len(value) > MAX_PART
    }
    if len(note.strip()) > MAX_NOTE:
        problems["note"] = f"is longer than {MAX_NOTE} characters"
    if problems:
        raise ValidationFailed(problems)
    line = line_for(session, actor, number)
    before = line.location
    if before == cleaned:
        return None
    now = utcnow()
    for part, value in cleaned.items():
        setattr(line, f"paper_{part}", value)
    line.located_at = now if any(cleaned.values()) else None
    move = PaperLocationMove(
        document_id=line.document_id,
        from_location=before,
        to_location=cleaned,
        note=note.strip(),
        moved_by_id=actor.id,
        moved_at=now,
    )
    session.add(move)
    session.flush()
    audit.record(
        session,
        actor,
        "document.locate",
        "document",
        line.document.number,
        before=before,
        after={**cleaned, "note": move.note},
    )
    return move


def history(session: Session, actor: User, number: str) -> list[PaperLocationMove]:
    """Every recorded move of the paper original, oldest first."""
    line = line_for(session, actor, number)
    return list(
        session.scalars(
            select(PaperLocationMove)
            .where(PaperLocationMove.document_id == line.document_id)
            .order_by(PaperLocationMove.moved_at, PaperLocationMove.id)
        )
    )


def format_location(location: dict[str, str]) -> str:
    return " / ".join(value for value in (location.get(p, "") for p in LOCATION_PARTS) if value)
