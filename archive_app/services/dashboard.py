"""The dashboard (``/dashboard``): the figures a manager reads at a glance, per role.

Contract: :func:`figures` takes the acting user explicitly and returns a :class:`Dashboard`
holding only the cards the user's role may see (``Dashboard.cards``), each asked of
:mod:`archive_app.permissions` (:data:`CARD_CAPABILITIES`); a card not shown is None.
Every figure counts only what the user may see: documents and checklist lines of
archives at or below their clearance (``permissions.visible_levels``), the retention plan
through their ``Sight`` (so records restricted after an erasure request are left out too,
as on the plan page), destruction lists as the list page shows them
(``batches.visible_batches``), and the latest inspection as the inspection page does
(``inspection_runs.history``).

The page stays light: each card is one or two aggregate queries (GROUP BY) over indexed
columns; nothing is loaded per document, except that the appraisal card asks the retention
engine for the plan (the one place that knows when a record falls due), as the plan page
does. Nothing is changed and nothing is audited: the dashboard shows counts, never a
record's content or name.

Months are calendar months in UTC; "filed" means added to an archive (``created_at``);
destroyed records (stubs) are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from archive_app.models import (
    ChecklistLine,
    ChecklistState,
    CustomerArchive,
    DispositionBatch,
    Document,
    DocumentClass,
    DocumentStatus,
    User,
)
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, Sight, allowed, visible_levels
from archive_app.services import inspection_runs
from archive_app.services.checklist import unlocated_conditions
from archive_app.services.inspection_runs import RunView
from archive_app.services.retention.batches import visible_batches
from archive_app.services.retention.planning import compute_plan

MONTHS = 12  # documents per class over the last twelve calendar months, this one included
YEARS_AHEAD = 5  # appraisal due in this year and the four after it
TOP_ARCHIVES = 10  # archives named on the unlocated card, most unlocated first
OPEN_BATCH_STATES = ("draft", "under_review", "approved")  # not executed, not cancelled
PROCESSING_STATES = (DocumentStatus.QUEUED, DocumentStatus.PROCESSING, DocumentStatus.FAILED)

# Which capability shows which card: the capability that lets a user see the card's
# subject elsewhere (the review queue page, the retention pages, the inspection page).
CARD_CAPABILITIES: dict[str, Capability] = {
    "filed": Capability.VIEW_ARCHIVES,
    "processing": Capability.FILE_DOCUMENTS,
    "review": Capability.REVIEW_CHECKLIST,
    "appraisal": Capability.READ_RETENTION,
    "destruction": Capability.READ_RETENTION,
    "inspection": Capability.READ_INSPECTIONS,
    "unlocated": Capability.VIEW_ARCHIVES,
}


@dataclass(frozen=True)
class ClassRow:
    code: str
    name_zh: str
    name_en: str
    counts: list[int]  # one per month of ``FiledByMonth.months``

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class FiledByMonth:
    months: list[str]  # "2026-01", oldest first
    classes: list[ClassRow]  # classes with at least one document in the period

    @property
    def totals(self) -> list[int]:
        return [sum(row.counts[i] for row in self.classes) for i in range(len(self.months))]


@dataclass(frozen=True)
class ReviewQueue:
    waiting: int
    oldest: datetime | None  # submission time of the longest-waiting line


@dataclass(frozen=True)
class AppraisalDue:
    due_now: int  # eligible for destruction today
    by_year: list[tuple[int, int]]  # (year, records whose period ends that year)


@dataclass(frozen=True)
class OpenBatch:
    number: str
    state: str
    items: int  # items the reader may see


@dataclass(frozen=True)
class OpenLists:
    batches: list[OpenBatch]
    hidden: int  # open lists holding only records out of the reader's sight

    def by_state(self) -> dict[str, int]:
        counts = dict.fromkeys(OPEN_BATCH_STATES, 0)
        for batch in self.batches:
            counts[batch.state] += 1
        return counts


@dataclass(frozen=True)
class UnlocatedArchive:
    number: str
    name: str
    count: int


@dataclass(frozen=True)
class Unlocated:
    total: int
    archives: list[UnlocatedArchive]  # the archives with the most, at most TOP_ARCHIVES


@dataclass(frozen=True)
class Dashboard:
    as_of: date
    cards: frozenset[str]
    filed: FiledByMonth | None = None
    processing: dict[str, int] | None = None  # queued / processing / failed
    review: ReviewQueue | None = None
    appraisal: AppraisalDue | None = None
    destruction: OpenLists | None = None
    inspection: RunView | None = None  # None on the card too when no run exists yet
    unlocated: Unlocated | None = None


def cards_for(user: User) -> frozenset[str]:
    return frozenset(card for card, need in CARD_CAPABILITIES.items() if allowed(user, need))


def figures(session: Session, actor: User, *, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    today = now.astimezone(UTC).date()
    cards = cards_for(actor)
    levels = visible_levels(actor)
    sight = Sight.of(session, actor) if cards & {"appraisal", "destruction"} else None
    return Dashboard(
        as_of=today,
        cards=cards,
        filed=filed_by_month(session, levels, today) if "filed" in cards else None,
        processing=processing_counts(session, levels) if "processing" in cards else None,
        review=review_queue(session, levels) if "review" in cards else None,
        appraisal=appraisal_due(session, sight, today) if sight and "appraisal" in cards else None,
        destruction=open_lists(session, sight) if sight and "destruction" in cards else None,
        inspection=_latest_run(session, actor) if "inspection" in cards else None,
        unlocated=unlocated(session, levels) if "unlocated" in cards else None,
    )


def _months(today: date) -> list[tuple[int, int]]:
    months = []
    year, month = today.year, today.month
    for _ in range(MONTHS):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _month_parts(session: Session, column: Any) -> tuple[Any, Any]:
    # PostgreSQL extracts from a timestamptz in the session's time zone; months are UTC.
    if session.get_bind().dialect.name == "postgresql":
        column = func.timezone("UTC", column)
    return extract("year", column), extract("month", column)


def _visible_documents(levels: list[Any]) -> list[Any]:
    return [CustomerArchive.level.in_(levels), Document.destroyed_at.is_(None)]


def filed_by_month(session: Session, levels: list[Any], today: date) -> FiledByMonth:
    months = _months(today)
    first_year, first_month = months[0]
    start = datetime(first_year, first_month, 1, tzinfo=UTC)
    year, month = _month_parts(session, Document.created_at)
    rows = session.execute(
        select(
            DocumentClass.code,
            DocumentClass.name_zh,
            DocumentClass.name_en,
            DocumentClass.sort_order,
            year,
            month,
            func.count(Document.id),
        )
        .join(DocumentClass, Document.class_id == DocumentClass.id)
        .join(CustomerArchive, Document.archive_id == CustomerArchive.id)
        .where(Document.created_at >= start, *_visible_documents(levels))
        .group_by(
            DocumentClass.code,
            DocumentClass.name_zh,
            DocumentClass.name_en,
            DocumentClass.sort_order,
            year,
            month,
        )
    ).all()
    position = {key: index for index, key in enumerate(months)}
    classes: dict[str, tuple[int, str, str, list[int]]] = {}
    for code, name_zh, name_en, sort_order, row_year, row_month, count in rows:
        index = position.get((int(row_year), int(row_month)))
        if index is None:  # created "in the future" by a clock ahead of ours
            continue
        entry = classes.setdefault(code, (sort_order, name_zh, name_en, [0] * MONTHS))
        entry[3][index] += count
    ordered = sorted(classes.items(), key=lambda item: (item[1][0], item[0]))
    return FiledByMonth(
        months=[f"{y:04d}-{m:02d}" for y, m in months],
        classes=[ClassRow(code, zh, en, counts) for code, (_, zh, en, counts) in ordered],
    )


def processing_counts(session: Session, levels: list[Any]) -> dict[str, int]:
    counts = {status.value: 0 for status in PROCESSING_STATES}
    rows = session.execute(
        select(Document.status, func.count(Document.id))
        .join(CustomerArchive, Document.archive_id == CustomerArchive.id)
        .where(Document.status.in_(PROCESSING_STATES), *_visible_documents(levels))
        .group_by(Document.status)
    )
    for status, count in rows:
        counts[DocumentStatus(status).value] = count
    return counts


def review_queue(session: Session, levels: list[Any]) -> ReviewQueue:
    """The lines the review queue page (复核) lists: awaiting review, in visible archives."""
    waiting, oldest = session.execute(
        select(func.count(ChecklistLine.id), func.min(ChecklistLine.submitted_at))
        .join(CustomerArchive, ChecklistLine.archive_id == CustomerArchive.id)
        .where(
            ChecklistLine.state == ChecklistState.AWAITING_REVIEW,
            CustomerArchive.level.in_(levels),
        )
    ).one()
    return ReviewQueue(waiting=waiting, oldest=oldest)


def appraisal_due(session: Session, sight: Sight, today: date) -> AppraisalDue:
    plan = compute_plan(session, today, sight=sight).plan
    by_year = [
        (year, len(plan.falling_due(date(year, 1, 1), date(year, 12, 31))))
        for year in range(today.year, today.year + YEARS_AHEAD)
    ]
    return AppraisalDue(due_now=len(plan.eligible), by_year=by_year)


def open_lists(session: Session, sight: Sight) -> OpenLists:
    rows = list(
        session.scalars(
            select(DispositionBatch)
            .where(DispositionBatch.state.in_(OPEN_BATCH_STATES))
            .order_by(DispositionBatch.id)
        )
    )
    listing = visible_batches(session, sight, rows)
    return OpenLists(
        batches=[
            OpenBatch(row.number, row.state, listing.visible_items[row.number])
            for row in listing.rows
        ],
        hidden=listing.hidden,
    )


def _latest_run(session: Session, actor: User) -> RunView | None:
    runs = inspection_runs.history(session, actor, limit=1)
    return runs[0] if runs else None


def unlocated(session: Session, levels: list[Any]) -> Unlocated:
    """Declared records (checklist confirmed) whose paper original has no place recorded."""
    conditions = [
        ChecklistLine.state == ChecklistState.FILED,
        *unlocated_conditions(),
        CustomerArchive.level.in_(levels),
        Document.destroyed_at.is_(None),
    ]
    count = func.count(ChecklistLine.id)
    rows = session.execute(
        select(CustomerArchive.number, CustomerArchive.name, count)
        .join(CustomerArchive, ChecklistLine.archive_id == CustomerArchive.id)
        .join(Document, ChecklistLine.document_id == Document.id)
        .where(*conditions)
        .group_by(CustomerArchive.number, CustomerArchive.name)
        .order_by(count.desc(), CustomerArchive.number)
        .limit(TOP_ARCHIVES)
    ).all()
    total = session.scalar(
        select(func.count(ChecklistLine.id))
        .join(CustomerArchive, ChecklistLine.archive_id == CustomerArchive.id)
        .join(Document, ChecklistLine.document_id == Document.id)
        .where(*conditions)
    )
    return Unlocated(
        total=total or 0,
        archives=[UnlocatedArchive(number, name, n) for number, name, n in rows],
    )
