"""Trigger events of single records: ``contract_end``, ``relationship_end``,
``asset_scrapped`` (and any anchor a configured rule names).

Contract: one date per record and event; recording it again replaces the date, with the
old and new values in the audit trail. A destroyed record takes no events.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.errors import NotFound, ValidationFailed
from archive_app.models import Document, RetentionEvent, User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, require, require_record
from archive_app.services import audit
from archive_app.services.retention.errors import RecordDestroyed
from retention import EVENT_ASSET_SCRAPPED, EVENT_CONTRACT_END, EVENT_RELATIONSHIP_END

KNOWN_EVENTS = (EVENT_CONTRACT_END, EVENT_RELATIONSHIP_END, EVENT_ASSET_SCRAPPED)


def record_event(
    session: Session, actor: User | None, number: str, event: str, day: date | str
) -> RetentionEvent:
    """Record (or correct) ``event`` on document ``number``; ``actor`` None is the system."""
    if actor is not None:
        require(actor, Capability.RECORD_EVENTS)
    if event not in KNOWN_EVENTS:
        raise ValidationFailed({"event": f"use one of {', '.join(KNOWN_EVENTS)}"})
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day.strip())
        except ValueError:
            raise ValidationFailed({"date": f"{day!r} is not a date (YYYY-MM-DD)"}) from None
    document = session.scalar(select(Document).where(Document.number == number.strip()))
    if actor is not None:
        require_record(session, actor, document, number)
    if document is None:
        raise NotFound("document", number)
    if document.is_destroyed:
        raise RecordDestroyed(document.number)
    row = session.scalar(
        select(RetentionEvent).where(
            RetentionEvent.document_id == document.id, RetentionEvent.event == event
        )
    )
    before = None
    if row is None:
        row = RetentionEvent(document_id=document.id, event=event, event_date=day)
        session.add(row)
    else:
        before = {event: row.event_date.isoformat()}
        row.event_date = day
    row.recorded_by_id = actor.id if actor is not None else None
    row.recorded_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "retention.event.record",
        "document",
        document.number,
        before=before,
        after={event: day.isoformat()},
    )
    return row
