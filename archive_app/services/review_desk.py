"""Review beside the scan: a reviewer opens a checklist line awaiting review with its page
images, its fields and the text they were suggested from; bulk confirmation takes only the
lines the reviewer has opened.

Contract: ``open_line(container, session, actor, number)`` is refused exactly as a
confirmation would be (``checklist.reviewable``: the reviewing role, sight of the record,
awaiting review, not the reviewer's own line) and records the opening in the audit trail
(``checklist.review_open``, with the version under review). That entry is what "opened"
means: ``opened_numbers`` answers, for a set of lines, which ones the actor opened since
their current submission (a line submitted again after a rejection must be opened again),
and ``confirm_opened`` confirms those and refuses the others by name, whatever the form
sent. Confirming a single line (its own button, the command line) needs no opening: the
rule is against confirming lines nobody looked at, many at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_app.infra.container import Container
from archive_app.models import AuditEntry, ChecklistLine, CustomerArchive, Document, User
from archive_app.permissions import visible_levels
from archive_app.services import audit, checklist
from archive_app.services.checklist import BulkOutcome, Problem
from archive_app.services.documents import read_reading

OPEN_ACTION = "checklist.review_open"


@dataclass
class ReviewView:
    line: ChecklistLine
    pages: list[dict[str, Any]]
    suggestions: dict[str, Any]
    problems: list[Problem]
    position: int  # 1-based place of the line among those the reviewer may review
    total: int
    next_number: str | None  # the next line to review, None when this is the only one
    previous_number: str | None

    @property
    def document(self) -> Document:
        return self.line.document


@dataclass(frozen=True)
class BulkReview:
    outcome: BulkOutcome
    not_opened: list[str] = field(default_factory=list)


def open_line(container: Container, session: Session, actor: User, number: str) -> ReviewView:
    line = checklist.reviewable(session, actor, number)
    document = line.document
    reading = read_reading(container, session, actor, document.number)
    queue = [
        item.document.number
        for item in checklist.review_queue(session, actor, record_view=False)
        if not checklist.is_own_line(item, actor)
    ]
    index = queue.index(document.number)
    others = queue[index + 1 :] + queue[:index]
    earlier = queue[:index][::-1] + queue[index + 1 :][::-1]
    audit.record(
        session,
        actor,
        OPEN_ACTION,
        "document",
        document.number,
        after={"version": document.version},
    )
    return ReviewView(
        line=line,
        pages=reading.pages,
        suggestions=reading.suggestions,
        problems=checklist.check_document(document),
        position=index + 1,
        total=len(queue),
        next_number=others[0] if others else None,
        previous_number=earlier[0] if earlier else None,
    )


def opened_numbers(session: Session, actor: User, lines: Iterable[ChecklistLine]) -> set[str]:
    """The document numbers of ``lines`` the actor opened since the line was submitted."""
    submitted = {line.document.number: line.submitted_at for line in lines}
    if not submitted:
        return set()
    rows = session.execute(
        select(AuditEntry.object_id, func.max(AuditEntry.at))
        .where(
            AuditEntry.action == OPEN_ACTION,
            AuditEntry.actor_id == actor.id,
            AuditEntry.outcome == audit.OK,
            AuditEntry.object_id.in_(list(submitted)),
        )
        .group_by(AuditEntry.object_id)
    )
    return {
        number
        for number, opened_at in rows
        if submitted[number] is not None and opened_at >= submitted[number]
    }


def confirm_opened(session: Session, actor: User, numbers: Iterable[str]) -> BulkReview:
    """Confirm the lines among ``numbers`` the actor has opened; name the others."""
    wanted = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
    # Only lines the actor may see: a hidden one is refused below as not found, like a
    # missing one, rather than as "not opened", which would tell that it exists.
    lines = session.scalars(
        select(ChecklistLine)
        .join(Document, ChecklistLine.document_id == Document.id)
        .join(CustomerArchive, Document.archive_id == CustomerArchive.id)
        .where(Document.number.in_(wanted), CustomerArchive.level.in_(visible_levels(actor)))
    ).all()
    opened = opened_numbers(session, actor, lines)
    # Numbers naming no line fall to confirm_many, which refuses them as not found.
    known = {line.document.number for line in lines}
    not_opened = [n for n in wanted if n in known and n not in opened]
    outcome = checklist.confirm_many(session, actor, [n for n in wanted if n not in not_opened])
    return BulkReview(outcome, not_opened)
