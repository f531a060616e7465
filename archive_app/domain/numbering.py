"""Archive and document numbers: formatting and gap-free allocation.

Archive numbers come from the configured pattern (default ``KH-{seq:06d}``). Document
numbers are ``<archive number>-<class number code>-<year>-<sequence>``, for example
``KH-000123-HT-2026-0007``, with one gapless sequence per archive, class and year.

Allocation increments a named counter in the caller's transaction (see
:mod:`archive_app.models.sequence`): the counter row is locked until commit on PostgreSQL
(``UPDATE ... RETURNING`` takes the row lock) and the whole database is write-locked on
SQLite (``BEGIN IMMEDIATE``), so concurrent creators queue and each gets the next number.
"""

from __future__ import annotations

import re

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive_app.models import NumberSequence

ARCHIVE_SEQUENCE = "archive"
DOCUMENT_SEQUENCE_WIDTH = 4
_NUMBER_CODE = re.compile(r"[A-Z]{1,8}")


def format_archive_number(pattern: str, seq: int) -> str:
    return pattern.format(seq=seq)


def format_document_number(archive_number: str, class_number_code: str, year: int, seq: int) -> str:
    """``KH-000123`` + ``HT`` + 2026 + 7 → ``KH-000123-HT-2026-0007``.

    The sequence is zero-padded to four digits and simply grows wider past 9999, so
    numbers stay unique and sort correctly within a year up to that point."""
    if not _NUMBER_CODE.fullmatch(class_number_code):
        raise ValueError(
            f"class number code must be 1-8 capital letters, got {class_number_code!r}"
        )
    if not 1000 <= year <= 9999:
        raise ValueError(f"year out of range: {year}")
    if seq < 1:
        raise ValueError(f"sequence numbers start at 1, got {seq}")
    return f"{archive_number}-{class_number_code}-{year:04d}-{seq:0{DOCUMENT_SEQUENCE_WIDTH}d}"


def document_sequence_name(archive_id: int, class_code: str, year: int) -> str:
    return f"document:{archive_id}:{class_code}:{year}"


def next_value(session: Session, name: str) -> int:
    """Increment counter ``name`` in the current transaction and return the new value."""
    statement = (
        update(NumberSequence)
        .where(NumberSequence.name == name)
        .values(last_value=NumberSequence.last_value + 1)
        .returning(NumberSequence.last_value)
    )
    value = session.execute(statement).scalar_one_or_none()
    if value is not None:
        return value
    # First use of this counter. Insert it inside a savepoint: if a concurrent
    # transaction created it first, the insert fails and the update now finds it.
    try:
        with session.begin_nested():
            session.execute(insert(NumberSequence).values(name=name, last_value=1))
        return 1
    except IntegrityError:
        return session.execute(statement).scalar_one()


def next_values(session: Session, name: str, count: int) -> range:
    """Take the next ``count`` values of counter ``name`` at once, in the current
    transaction (gap-free as long as the caller uses them all before it commits)."""
    if count < 1:
        return range(0)
    statement = (
        update(NumberSequence)
        .where(NumberSequence.name == name)
        .values(last_value=NumberSequence.last_value + count)
        .returning(NumberSequence.last_value)
    )
    last = session.execute(statement).scalar_one_or_none()
    if last is None:
        first = next_value(session, name)  # creates the counter (see there)
        last = session.execute(
            update(NumberSequence)
            .where(NumberSequence.name == name)
            .values(last_value=NumberSequence.last_value + count - 1)
            .returning(NumberSequence.last_value)
        ).scalar_one()
        return range(first, last + 1)
    return range(last - count + 1, last + 1)


def raise_to(session: Session, name: str, value: int) -> None:
    """Make counter ``name`` at least ``value`` (numbers a restore brings back from
    elsewhere must never be handed out again)."""
    if current_value(session, name) >= value:
        return
    updated = session.execute(
        update(NumberSequence).where(NumberSequence.name == name).values(last_value=value)
    )
    if not updated.rowcount:
        session.execute(insert(NumberSequence).values(name=name, last_value=value))


def current_value(session: Session, name: str) -> int:
    value = session.execute(
        select(NumberSequence.last_value).where(NumberSequence.name == name)
    ).scalar_one_or_none()
    return value or 0


def allocate_document_number(
    session: Session,
    *,
    archive_id: int,
    archive_number: str,
    class_code: str,
    class_number_code: str,
    year: int,
) -> str:
    seq = next_value(session, document_sequence_name(archive_id, class_code, year))
    return format_document_number(archive_number, class_number_code, year, seq)
