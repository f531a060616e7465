"""Building the engine's ``RecordFacts`` from the database, in bulk.

Contract: one ``RecordFacts`` per document, keyed by document number (the record id the
engine, batches and certificates use). ``declared`` is ``Document.declared_at`` being set
(the filing checklist confirmed); the anchor date is the document date, or the filing
(declaration) date when a record has none, which can only keep a record longer. Events
come from the record's own date fields (:data:`DATE_FIELD_EVENTS`: a contract's
``end_date`` is its ``contract_end``, a ``scrapped_date`` the ``asset_scrapped``, a
``relationship_end`` the ``relationship_end``) and from its customer: the archive's
``relationship_end`` dates the ``relationship_end`` of every record in it (a record's own
field, being more specific, wins), so the clock starts without a separate entry; an event recorded with ``events.record_event`` overrides the field's date (an
extended contract whose metadata was not corrected, a correction by compliance), and
both the field edit and the event are audited where they are made. Holds are the names of the active
legal holds covering the record or its archive; ``unsettled_claim`` an open flag;
``erasure_requested`` an erasure request on the record's archive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.models import (
    CustomerArchive,
    Document,
    DocumentClass,
    RetentionEvent,
)
from archive_app.models.user import Level
from archive_app.permissions import Sight, restricted_archive_ids
from archive_app.services.retention.holds import (
    CHUNK,
    active_hold_names,
    unsettled_document_ids,
)
from retention import (
    EVENT_ASSET_SCRAPPED,
    EVENT_CONTRACT_END,
    EVENT_RELATIONSHIP_END,
    RecordFacts,
)

# A record's date field that, when filled in, is the date of a trigger event.
DATE_FIELD_EVENTS = {
    "end_date": EVENT_CONTRACT_END,
    "scrapped_date": EVENT_ASSET_SCRAPPED,
    "relationship_end": EVENT_RELATIONSHIP_END,
}


def field_events(fields: dict[str, object] | None) -> dict[str, date]:
    """The trigger events a record's metadata fields date (values are ISO dates, checked
    when they were entered; anything else is ignored)."""
    found: dict[str, date] = {}
    for name, event in DATE_FIELD_EVENTS.items():
        value = (fields or {}).get(name)
        if isinstance(value, str):
            try:
                found[event] = date.fromisoformat(value)
            except ValueError:
                continue
    return found


def customer_events(relationship_end: date | None) -> dict[str, date]:
    """The trigger events the customer's archive dates for each of its records."""
    return {} if relationship_end is None else {EVENT_RELATIONSHIP_END: relationship_end}


@dataclass(frozen=True)
class RecordRow:
    """What the plan page and certificates show about one record, beside its facts."""

    id: int
    number: str
    title: str
    class_code: str
    archive_number: str
    archive_storage_id: str
    archive_id: int
    archive_level: Level
    document_date: date | None
    declared_on: date | None
    destroyed: bool


def load_facts(
    session: Session,
    *,
    document_numbers: Sequence[str] | None = None,
    archive_id: int | None = None,
) -> tuple[dict[str, RecordFacts], dict[str, RecordRow]]:
    query = (
        select(
            Document.id,
            Document.number,
            Document.title,
            Document.original_filename,
            DocumentClass.code,
            CustomerArchive.number,
            CustomerArchive.storage_id,
            CustomerArchive.level,
            CustomerArchive.relationship_end,
            Document.archive_id,
            Document.document_date,
            Document.declared_at,
            Document.created_at,
            Document.destroyed_at,
            Document.fields,
        )
        .join(DocumentClass, Document.class_id == DocumentClass.id)
        .join(CustomerArchive, Document.archive_id == CustomerArchive.id)
        .order_by(Document.number)
    )
    if archive_id is not None:
        query = query.where(Document.archive_id == archive_id)
    raw = []
    if document_numbers is None:
        raw = session.execute(query).all()
    else:
        numbers = list(document_numbers)
        for start in range(0, len(numbers), CHUNK):
            raw += session.execute(
                query.where(Document.number.in_(numbers[start : start + CHUNK]))
            ).all()
    ids = [row[0] for row in raw]
    events: dict[int, dict[str, date]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for document_id, event, day in session.execute(
            select(
                RetentionEvent.document_id, RetentionEvent.event, RetentionEvent.event_date
            ).where(RetentionEvent.document_id.in_(chunk))
        ):
            events.setdefault(document_id, {})[event] = day
    holds = active_hold_names(session, ids)
    claims = unsettled_document_ids(session)
    erasure_archives = restricted_archive_ids(session)
    facts: dict[str, RecordFacts] = {}
    rows: dict[str, RecordRow] = {}
    for (
        document_id,
        number,
        title,
        filename,
        class_code,
        archive_number,
        storage_id,
        archive_level,
        relationship_end,
        doc_archive_id,
        document_date,
        declared_at,
        created_at,
        destroyed_at,
        fields,
    ) in raw:
        anchor = document_date or (declared_at or created_at).date()
        facts[number] = RecordFacts(
            record_id=number,
            class_code=class_code,
            declared=declared_at is not None,
            document_date=anchor,
            events=customer_events(relationship_end)
            | field_events(fields)
            | events.get(document_id, {}),
            hold_ids=frozenset(holds.get(document_id, ())),
            unsettled_claim=document_id in claims,
            erasure_requested=doc_archive_id in erasure_archives,
            destroyed=destroyed_at is not None,
        )
        rows[number] = RecordRow(
            id=document_id,
            number=number,
            title=title or filename,
            class_code=class_code,
            archive_number=archive_number,
            archive_storage_id=storage_id,
            archive_id=doc_archive_id,
            archive_level=Level(archive_level),
            document_date=document_date,
            declared_on=declared_at.date() if declared_at else None,
            destroyed=destroyed_at is not None,
        )
    return facts, rows


def visibility(session: Session, sight: Sight, numbers: Sequence[str]) -> dict[str, bool]:
    """Whether ``sight`` may see each of the records ``numbers`` (missing ones: False)."""
    seen = dict.fromkeys(numbers, False)
    unique = list(seen)
    for start in range(0, len(unique), CHUNK):
        query = (
            select(
                Document.number,
                Document.archive_id,
                CustomerArchive.level,
                Document.destroyed_at,
            )
            .join(CustomerArchive, Document.archive_id == CustomerArchive.id)
            .where(Document.number.in_(unique[start : start + CHUNK]))
        )
        for number, archive_id, level, destroyed_at in session.execute(query):
            seen[number] = sight.record(archive_id, level, destroyed=destroyed_at is not None)
    return seen


def sees_row(sight: Sight, row: RecordRow) -> bool:
    return sight.record(row.archive_id, row.archive_level, destroyed=row.destroyed)


def visible_only(
    sight: Sight, facts: dict[str, RecordFacts], rows: dict[str, RecordRow]
) -> tuple[dict[str, RecordFacts], dict[str, RecordRow], int]:
    """The facts and rows of the records ``sight`` may see, and how many were left out."""
    seen = [number for number, row in rows.items() if sees_row(sight, row)]
    hidden = len(rows) - len(seen)
    return {n: facts[n] for n in seen}, {n: rows[n] for n in seen}, hidden
