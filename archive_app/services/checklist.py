"""The filing checklist (归档清单): lines, the system's checks before review, and the
four-eyes review that declares a record.

Workflow per line: ``draft`` → (:func:`submit`, only when :func:`check_document` finds
nothing missing) → ``awaiting_review`` → :func:`confirm` by somebody other than the filer
and the submitter → ``filed``: the document is declared (content frozen, number fixed,
retention clock eligible to start). :func:`reject` sends a line back to ``draft`` with the
reason, which stays visible until the next submission.

Who may review, and the rule for changing declared records, live in
:mod:`archive_app.services.declaration`. Every change and every listing is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive_app.domain.field_rules import applicable_fields
from archive_app.domain.fieldtypes import normalise
from archive_app.errors import AppError, Conflict, NotFound, ValidationFailed
from archive_app.models import (
    ChecklistLine,
    ChecklistState,
    CustomerArchive,
    Document,
    DocumentStatus,
    DocumentVersion,
    User,
)
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, may_see_level, require, visible_levels
from archive_app.search import updates as search_updates
from archive_app.services import audit
from archive_app.services.documents import get_visible

MAX_REASON = 2000


@dataclass(frozen=True)
class Problem:
    """One thing that keeps a line from review. ``code``: ``status`` (not processed),
    ``title`` (no title), ``missing`` (a required field is empty), ``invalid`` (a value
    is malformed; ``message`` says how), ``order`` (contract ends before it is signed)."""

    field: str
    code: str
    message: str
    label_zh: str = ""
    label_en: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ChecklistIncomplete(AppError):
    """The line cannot go to review: ``problems`` lists exactly what is missing."""

    http_status = 422
    code = "checklist_incomplete"

    def __init__(self, document: str, problems: list[Problem]) -> None:
        self.document = document
        self.problems = problems
        text = "; ".join(str(problem) for problem in problems)
        super().__init__(f"{document} cannot be submitted for review: {text}")


class SelfReviewRefused(AppError):
    """The four-eyes rule: nobody reviews a line they filed or submitted."""

    http_status = 403
    code = "self_review"

    def __init__(self, document: str, username: str) -> None:
        self.document = document
        self.username = username
        super().__init__(
            f"user {username!r} filed or submitted {document} and cannot review it; "
            "another archivist must confirm it"
        )


class WrongState(Conflict):
    code = "wrong_state"

    def __init__(self, document: str, state: ChecklistState, wanted: str) -> None:
        self.document = document
        self.state = state
        super().__init__(f"the checklist line of {document} is {state.value}; {wanted}")


# ---------------------------------------------------------------- creation (intake hook)


def open_line(session: Session, document: Document, filer: User) -> ChecklistLine:
    """Called by intake in the transaction that creates the document: its draft line and
    its version 1 row."""
    line = ChecklistLine(
        document_id=document.id,
        archive_id=document.archive_id,
        state=ChecklistState.DRAFT,
        filer_id=filer.id,
        created_at=document.created_at,
    )
    session.add(line)
    session.add(
        DocumentVersion(
            document_id=document.id,
            version=document.version or 1,
            original_filename=document.original_filename,
            mime_type=document.mime_type,
            size_bytes=document.size_bytes,
            page_count=document.page_count,
            sha256=document.sha256,
            original_object_id=document.original_object_id,
            created_by_id=filer.id,
            created_at=document.created_at,
        )
    )
    session.flush()
    return line


# ---------------------------------------------------------------- the system's checks


def check_document(document: Document) -> list[Problem]:
    """What keeps this document's line from review, field by field (empty when ready)."""
    problems: list[Problem] = []
    if document.status != DocumentStatus.READY:
        reason = {
            DocumentStatus.FAILED: "text extraction failed; retry it first",
        }.get(document.status, "text extraction has not finished yet")
        problems.append(Problem("status", "status", reason))
    if not (document.title or "").strip():
        problems.append(Problem("title", "title", "is missing", "标题", "Title"))
    values: dict[str, str] = {}
    stored = document.fields or {}
    # Only saved values count: a suggestion from the text is missing until accepted.
    for applied in applicable_fields(document.field_specs, stored):
        name = applied.name
        labels = {"label_zh": applied.label_zh, "label_en": applied.label_en}
        raw = str(stored.get(name) or "")
        if not raw.strip():
            if applied.required:
                problems.append(Problem(name, "missing", "is missing", **labels))
            continue
        try:
            values[name] = normalise(applied.type, raw, applied.choices)
        except ValueError as error:
            problems.append(Problem(name, "invalid", str(error), **labels))
    if (
        "sign_date" in values
        and "end_date" in values
        and date.fromisoformat(values["end_date"]) <= date.fromisoformat(values["sign_date"])
    ):
        problems.append(
            Problem(
                "end_date",
                "order",
                f"must be after the sign date {values['sign_date']}",
                "终止日期",
                "End date",
            )
        )
    return problems


# ---------------------------------------------------------------- lookups


def line_for(session: Session, actor: User, number: str) -> ChecklistLine:
    document = get_visible(session, actor, number)
    line = session.scalar(select(ChecklistLine).where(ChecklistLine.document_id == document.id))
    if line is None:
        raise NotFound("checklist line", number)
    return line


@dataclass
class LineView:
    line: ChecklistLine
    problems: list[Problem] = field(default_factory=list)
    # What the reading asks a person to look at (``reading_checks``); filled by front ends
    # that can decrypt, since a misfiling warning names a company from the document.
    warnings: list[Any] = field(default_factory=list)

    @property
    def document(self) -> Document:
        return self.line.document


def list_lines(
    session: Session,
    actor: User,
    archive_number: str,
    *,
    location: str = "",
    unlocated: bool = False,
    state: str | None = None,
    record_view: bool = True,
) -> tuple[CustomerArchive, list[LineView]]:
    """The checklist of one archive, optionally filtered by a paper-location fragment
    (matched against room, shelf, box and position), by "not located" or by state."""
    require(actor, Capability.VIEW_ARCHIVES)
    archive = session.scalar(
        select(CustomerArchive).where(CustomerArchive.number == archive_number.strip())
    )
    if archive is None or not may_see_level(actor, archive.level):
        raise NotFound("archive", archive_number)
    query = (
        select(ChecklistLine)
        .join(Document, ChecklistLine.document_id == Document.id)
        .where(ChecklistLine.archive_id == archive.id, Document.destroyed_at.is_(None))
        .order_by(Document.id)
    )
    text = location.strip()
    if text:
        pattern = f"%{_escape_like(text)}%"
        query = query.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (
                        ChecklistLine.paper_room,
                        ChecklistLine.paper_shelf,
                        ChecklistLine.paper_box,
                        ChecklistLine.paper_position,
                    )
                )
            )
        )
    if unlocated:
        query = query.where(*unlocated_conditions())
    if state:
        query = query.where(ChecklistLine.state == ChecklistState(state))
    lines = [
        LineView(line, check_document(line.document) if line.state != ChecklistState.FILED else [])
        for line in session.scalars(query)
    ]
    if record_view:
        audit.record(
            session,
            actor,
            "checklist.view",
            "archive",
            archive.number,
            after={"location": text, "unlocated": unlocated, "lines": len(lines)},
        )
    return archive, lines


def review_queue(session: Session, actor: User, *, record_view: bool = True) -> list[ChecklistLine]:
    """Lines awaiting review across every archive the actor may see, oldest first."""
    require(actor, Capability.REVIEW_CHECKLIST)
    lines = list(
        session.scalars(
            select(ChecklistLine)
            .join(CustomerArchive, ChecklistLine.archive_id == CustomerArchive.id)
            .where(
                ChecklistLine.state == ChecklistState.AWAITING_REVIEW,
                CustomerArchive.level.in_(visible_levels(actor)),
            )
            .order_by(ChecklistLine.submitted_at, ChecklistLine.id)
        )
    )
    if record_view:
        audit.record(
            session, actor, "checklist.queue", "checklist", "*", after={"lines": len(lines)}
        )
    return lines


def unlocated_counts(session: Session, archive_ids: list[int]) -> dict[int, int]:
    """Per archive: how many documents have no paper location recorded yet."""
    if not archive_ids:
        return {}
    rows = session.execute(
        select(ChecklistLine.archive_id, func.count(ChecklistLine.id))
        .where(ChecklistLine.archive_id.in_(archive_ids), *unlocated_conditions())
        .group_by(ChecklistLine.archive_id)
    )
    return {archive_id: count for archive_id, count in rows}


def unlocated_conditions() -> list[Any]:
    """A line whose paper original has no place recorded (no room, shelf, box or position)."""
    return [
        ChecklistLine.paper_room == "",
        ChecklistLine.paper_shelf == "",
        ChecklistLine.paper_box == "",
        ChecklistLine.paper_position == "",
    ]


def is_own_line(line: ChecklistLine, user: User) -> bool:
    return user.id in (line.filer_id, line.submitted_by_id)


# ---------------------------------------------------------------- the workflow


def submit(session: Session, actor: User, number: str) -> ChecklistLine:
    """Draft → awaiting review, only when nothing is missing."""
    require(actor, Capability.FILE_DOCUMENTS)
    line = line_for(session, actor, number)
    document = line.document
    if line.state != ChecklistState.DRAFT:
        raise WrongState(document.number, line.state, "only draft lines can be submitted")
    problems = check_document(document)
    if problems:
        raise ChecklistIncomplete(document.number, problems)
    line.state = ChecklistState.AWAITING_REVIEW
    line.submitted_by_id = actor.id
    line.submitted_at = utcnow()
    line.rejection_reason = None
    audit.record(
        session,
        actor,
        "checklist.submit",
        "document",
        document.number,
        before={"state": ChecklistState.DRAFT.value},
        after={"state": line.state.value, "version": document.version},
    )
    return line


def reviewable(session: Session, actor: User, number: str) -> ChecklistLine:
    """The line ``actor`` may review now: awaiting review, and not their own."""
    require(actor, Capability.REVIEW_CHECKLIST)
    line = line_for(session, actor, number)
    if line.state != ChecklistState.AWAITING_REVIEW:
        raise WrongState(
            line.document.number, line.state, "only lines awaiting review can be reviewed"
        )
    if is_own_line(line, actor):
        raise SelfReviewRefused(line.document.number, actor.username)
    return line


def confirm(session: Session, actor: User, number: str) -> ChecklistLine:
    """The reviewer's confirmation: the line is filed and the record declared."""
    line = reviewable(session, actor, number)
    document = line.document
    # The checks ran at submission; run them again in case the record changed since.
    problems = check_document(document)
    if problems:
        raise ChecklistIncomplete(document.number, problems)
    now = utcnow()
    line.state = ChecklistState.FILED
    line.reviewer_id = actor.id
    line.reviewed_at = now
    first_declaration = document.declared_at is None
    if first_declaration:
        document.declared_at = now
        document.declared_by_id = actor.id
        search_updates.reindex(session, documents=[document.id])  # its filing state shows
    version = session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.version == document.version,
        )
    )
    if version is not None:
        version.confirmed_by_id = actor.id
        version.confirmed_at = now
    audit.record(
        session,
        actor,
        "checklist.confirm",
        "document",
        document.number,
        before={"state": ChecklistState.AWAITING_REVIEW.value},
        after={
            "state": line.state.value,
            "version": document.version,
            "declared_at": document.declared_at.isoformat() if document.declared_at else None,
            "declared_now": first_declaration,
            "sha256": document.sha256,
        },
    )
    return line


@dataclass(frozen=True)
class BulkOutcome:
    confirmed: list[str]
    refused: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"confirmed": self.confirmed, "refused": self.refused}


def confirm_many(session: Session, actor: User, numbers: Iterable[str]) -> BulkOutcome:
    """Confirm several lines; each is checked on its own, and a refused one (own line,
    wrong state, missing metadata) is reported with its reason without stopping the rest."""
    require(actor, Capability.REVIEW_CHECKLIST)
    confirmed: list[str] = []
    refused: dict[str, str] = {}
    for number in dict.fromkeys(n.strip() for n in numbers if n.strip()):
        try:
            # Every check happens before the first write, so a refusal leaves nothing half done.
            confirm(session, actor, number)
        except AppError as error:
            refused[number] = str(error)
        else:
            confirmed.append(number)
    return BulkOutcome(confirmed, refused)


def reject(session: Session, actor: User, number: str, reason: str) -> ChecklistLine:
    """Back to draft with the reason the filer needs to fix the line."""
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed({"reason": "say why the line is rejected"})
    if len(text) > MAX_REASON:
        raise ValidationFailed({"reason": f"is longer than {MAX_REASON} characters"})
    line = reviewable(session, actor, number)
    line.state = ChecklistState.DRAFT
    line.reviewer_id = actor.id
    line.reviewed_at = utcnow()
    line.rejection_reason = text
    audit.record(
        session,
        actor,
        "checklist.reject",
        "document",
        line.document.number,
        before={"state": ChecklistState.AWAITING_REVIEW.value},
        after={"state": line.state.value, "reason": text},
    )
    return line


def reopen_for_new_version(session: Session, line: ChecklistLine, filer: User) -> None:
    """A new version must be reviewed again: the line returns to draft, filed by the
    person who brought the corrected scan."""
    line.state = ChecklistState.DRAFT
    line.filer_id = filer.id
    line.submitted_by_id = None
    line.submitted_at = None
    line.reviewer_id = None
    line.reviewed_at = None
    line.rejection_reason = None


# ---------------------------------------------------------------- plain values for front ends


def electronic_location(document: Document) -> str:
    return f"{document.number} v{document.version} · {document.original_object_id or '-'}"


def line_as_dict(view: LineView | ChecklistLine) -> dict[str, Any]:
    line = view.line if isinstance(view, LineView) else view
    problems = view.problems if isinstance(view, LineView) else check_document(line.document)
    document = line.document
    return {
        "document": document.number,
        "archive": document.archive.number,
        "file": document.original_filename,
        "title": document.title,
        "class": document.document_class.code,
        "pages": document.page_count,
        "version": document.version,
        "status": document.status.value,
        "electronic_location": electronic_location(document),
        "paper_location": line.location,
        "state": line.state.value,
        "filer": line.filer.username,
        "created_at": line.created_at.isoformat(),
        "submitted_by": line.submitted_by.username if line.submitted_by else None,
        "submitted_at": line.submitted_at.isoformat() if line.submitted_at else None,
        "reviewer": line.reviewer.username if line.reviewer else None,
        "reviewed_at": line.reviewed_at.isoformat() if line.reviewed_at else None,
        "rejection_reason": line.rejection_reason,
        "declared_at": document.declared_at.isoformat() if document.declared_at else None,
        "missing": [problem.as_dict() for problem in problems]
        if line.state != ChecklistState.FILED
        else [],
    }


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def for_print(
    session: Session, actor: User, archive_number: str, what: str
) -> tuple[CustomerArchive, list[ChecklistLine]]:
    """The archive and its lines for the printed checklist or cover sheet; printing is
    audited (``what``: ``checklist`` or ``cover``)."""
    archive, views = list_lines(session, actor, archive_number, record_view=False)
    audit.record(
        session, actor, f"{what}.print", "archive", archive.number, after={"lines": len(views)}
    )
    return archive, [view.line for view in views]
