"""The year-end review (年终整理): is each year's filing complete, located and checked?

Contract:

- :func:`review` (readers: compliance, auditors, admins) gives, for a calendar year (UTC) and
  a scope (every archive, or one archive by number), per archive and in total:

  - ``filed``: records declared (checklist confirmed) during the year, by class code;
  - ``unconfirmed``: checklist lines never confirmed (``draft`` / ``awaiting_review``) of
    records received by the year's end and not destroyed;
  - ``unlocated``: records declared by the year's end, not destroyed, without a paper
    location;
  - ``versions_awaiting_review``: corrected versions (version 2 on) uploaded by the year's
    end and not yet confirmed;
  - ``appraisal_due``: records whose retention period ends during the next year, as the
    retention engine decides on the year's last day (held records and records waiting for
    an event are not due);
  - ``fixity_problems``: missing, damaged or altered objects found by the latest completed
    inspection that started during the year (its run is named in ``inspection``).

  Paper originals not returned are not counted: the product keeps no borrowing register,
  and the report says so (``borrowing_register: false``).

  Figures cover only archives at or below the reader's clearance; archives in scope above
  it are counted in ``hidden_archives``, never named. A single archive out of sight is
  not found. Every figure is one aggregate query (GROUP BY archive) except the appraisal,
  which asks the retention engine for its decisions (the engine's rules are never
  restated here). Reading the review is audited (``year_end.view``).

- :func:`sign_off` records a review as checked by a compliance user who sees every archive
  in scope (otherwise :class:`YearEndScopeHidden`, by count). The figures as signed and
  their SHA-256 are kept (:class:`archive_app.models.YearEndReview`); a year and scope are
  signed once (:class:`YearEndAlreadySignedOff`). Audited as ``year_end.sign_off``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive_app.errors import (
    ValidationFailed,
    YearEndAlreadySignedOff,
    YearEndScopeHidden,
)
from archive_app.models import (
    ChecklistLine,
    ChecklistState,
    CustomerArchive,
    Document,
    DocumentClass,
    DocumentVersion,
    InspectionRun,
    InspectionState,
    User,
    YearEndReview,
)
from archive_app.models.base import utcnow
from archive_app.models.year_end import SCOPE_ALL
from archive_app.permissions import (
    Capability,
    require,
    require_archive_visible,
    visible_levels,
)
from archive_app.services import audit
from archive_app.services.checklist import unlocated_conditions
from archive_app.services.retention.planning import compute_plan

FIRST_YEAR = 1900
# What the inspection reports about the stored objects themselves (fixity), as opposed to
# the index or the checklist.
FIXITY_PROBLEMS = frozenset({"missing", "damaged", "checksum_mismatch"})
# No borrowing register exists in the product; the report says so rather than guessing.
BORROWING_REGISTER = False
UNCONFIRMED_STATES = (ChecklistState.DRAFT.value, ChecklistState.AWAITING_REVIEW.value)


@dataclass
class Figures:
    """One archive's figures, or the total (``archive`` None)."""

    archive: str | None
    name: str = ""
    level: str | None = None
    filed: dict[str, int] = field(default_factory=dict)
    unconfirmed: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(UNCONFIRMED_STATES, 0)
    )
    unlocated: int = 0
    versions_awaiting_review: int = 0
    appraisal_due: int = 0
    fixity_problems: int = 0

    @property
    def filed_total(self) -> int:
        return sum(self.filed.values())

    @property
    def unconfirmed_total(self) -> int:
        return sum(self.unconfirmed.values())

    def add(self, other: Figures) -> None:
        for code, count in other.filed.items():
            self.filed[code] = self.filed.get(code, 0) + count
        for state, count in other.unconfirmed.items():
            self.unconfirmed[state] = self.unconfirmed.get(state, 0) + count
        self.unlocated += other.unlocated
        self.versions_awaiting_review += other.versions_awaiting_review
        self.appraisal_due += other.appraisal_due
        self.fixity_problems += other.fixity_problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "name": self.name,
            "level": self.level,
            "filed": dict(sorted(self.filed.items())),
            "filed_total": self.filed_total,
            "unconfirmed": dict(self.unconfirmed),
            "unconfirmed_total": self.unconfirmed_total,
            "unlocated": self.unlocated,
            "paper_not_returned": None,
            "versions_awaiting_review": self.versions_awaiting_review,
            "appraisal_due": self.appraisal_due,
            "fixity_problems": self.fixity_problems,
        }


@dataclass(frozen=True)
class SignOff:
    signed_by: str
    signed_at: datetime
    figures_sha256: str
    figures: dict[str, Any]
    # Whether today's figures are still the ones signed (a late confirmation changes them).
    current: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "signed_by": self.signed_by,
            "signed_at": self.signed_at.isoformat(),
            "figures_sha256": self.figures_sha256,
            "current": self.current,
        }


@dataclass(frozen=True)
class Review:
    year: int
    scope: str
    archives: list[Figures]
    total: Figures
    classes: dict[str, dict[str, str]]  # code -> {"zh": ..., "en": ...}
    inspection: dict[str, Any] | None
    hidden_archives: int
    sign_off: SignOff | None
    generated_at: datetime

    def figures(self) -> dict[str, Any]:
        """What a sign-off vouches for (and hashes): everything but who reads it when."""
        return {
            "year": self.year,
            "scope": self.scope,
            "borrowing_register": BORROWING_REGISTER,
            "classes": self.classes,
            "inspection": self.inspection,
            "archives": [figures.as_dict() for figures in self.archives],
            "total": self.total.as_dict(),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.figures(),
            "hidden_archives": self.hidden_archives,
            "generated_at": self.generated_at.isoformat(),
            "sign_off": self.sign_off.as_dict() if self.sign_off else None,
        }


def figures_hash(figures: dict[str, Any]) -> str:
    canonical = json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- reading


def review(session: Session, actor: User, year: int, archive: str | None = None) -> Review:
    """The review of ``year`` over ``archive`` (a number) or every archive; audited."""
    require(actor, Capability.READ_YEAR_END)
    result = _review(session, actor, year, archive)
    audit.record(
        session,
        actor,
        "year_end.view",
        "year_end_review",
        f"{year}/{result.scope}",
        after={"archives": len(result.archives), "hidden": result.hidden_archives},
    )
    return result


def _review(session: Session, actor: User, year: int, archive: str | None) -> Review:
    _check_year(year)
    scope, in_scope = _scope(session, actor, archive)
    hidden = session.scalar(select(func.count()).select_from(in_scope.subquery())) or 0
    levels = visible_levels(actor)
    rows = session.execute(
        in_scope.with_only_columns(
            CustomerArchive.id, CustomerArchive.number, CustomerArchive.name, CustomerArchive.level
        )
        .where(CustomerArchive.level.in_(levels))
        .order_by(CustomerArchive.number)
    ).all()
    hidden -= len(rows)
    by_id = {
        row.id: Figures(archive=row.number, name=row.name, level=row.level.value) for row in rows
    }
    start, end = _bounds(year)
    ids = list(by_id)
    if ids:
        _filed(session, by_id, ids, start, end)
        _unconfirmed(session, by_id, ids, end)
        _unlocated(session, by_id, ids, end)
        _versions(session, by_id, ids, end)
        _appraisal(session, by_id, year, archive_id=ids[0] if archive else None)
    run = _latest_run(session, start, end)
    if run is not None:
        numbers = {figures.archive: figures for figures in by_id.values()}
        for number, count in _fixity_by_archive(run).items():
            if number in numbers:
                numbers[number].fixity_problems = count
    total = Figures(archive=None)
    for figures in by_id.values():
        total.add(figures)
    result = Review(
        year=year,
        scope=scope,
        archives=list(by_id.values()),
        total=total,
        classes=_classes(session),
        inspection=_run_dict(run),
        hidden_archives=hidden,
        sign_off=None,
        generated_at=utcnow(),
    )
    signed = _sign_off(session, year, scope)
    if signed is not None:
        current = not hidden and figures_hash(result.figures()) == signed.figures_sha256
        result = Review(**{**result.__dict__, "sign_off": replace(signed, current=current)})
    return result


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= utcnow().year:
        raise ValidationFailed(
            {"year": f"must be between {FIRST_YEAR} and the current year {utcnow().year}"}
        )


def _bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def _scope(session: Session, actor: User, number: str | None):
    """The scope's name and a query of the archives in it (all levels)."""
    query = select(CustomerArchive.id)
    if number is None:
        return SCOPE_ALL, query
    found = session.scalar(select(CustomerArchive).where(CustomerArchive.number == number))
    require_archive_visible(actor, found, number)
    assert found is not None
    return found.number, query.where(CustomerArchive.id == found.id)


def _filed(session: Session, by_id: dict[int, Figures], ids: list[int], start, end) -> None:
    rows = session.execute(
        select(Document.archive_id, DocumentClass.code, func.count(Document.id))
        .join(DocumentClass, Document.class_id == DocumentClass.id)
        .where(
            Document.archive_id.in_(ids),
            Document.declared_at >= start,
            Document.declared_at < end,
        )
        .group_by(Document.archive_id, DocumentClass.code)
    )
    for archive_id, code, count in rows:
        by_id[archive_id].filed[code] = count


def _unconfirmed(session: Session, by_id: dict[int, Figures], ids: list[int], end) -> None:
    rows = session.execute(
        select(ChecklistLine.archive_id, ChecklistLine.state, func.count(ChecklistLine.id))
        .join(Document, ChecklistLine.document_id == Document.id)
        .where(
            ChecklistLine.archive_id.in_(ids),
            ChecklistLine.state != ChecklistState.FILED,
            # A declared record whose line is open again has a new version waiting: that
            # is counted under versions, not here.
            Document.declared_at.is_(None),
            Document.destroyed_at.is_(None),
            Document.created_at < end,
        )
        .group_by(ChecklistLine.archive_id, ChecklistLine.state)
    )
    for archive_id, state, count in rows:
        by_id[archive_id].unconfirmed[ChecklistState(state).value] = count


def _unlocated(session: Session, by_id: dict[int, Figures], ids: list[int], end) -> None:
    rows = session.execute(
        select(ChecklistLine.archive_id, func.count(ChecklistLine.id))
        .join(Document, ChecklistLine.document_id == Document.id)
        .where(
            ChecklistLine.archive_id.in_(ids),
            Document.declared_at < end,
            Document.destroyed_at.is_(None),
            *unlocated_conditions(),
        )
        .group_by(ChecklistLine.archive_id)
    )
    for archive_id, count in rows:
        by_id[archive_id].unlocated = count


def _versions(session: Session, by_id: dict[int, Figures], ids: list[int], end) -> None:
    rows = session.execute(
        select(Document.archive_id, func.count(DocumentVersion.id))
        .join(Document, DocumentVersion.document_id == Document.id)
        .where(
            Document.archive_id.in_(ids),
            DocumentVersion.version > 1,
            DocumentVersion.confirmed_at.is_(None),
            DocumentVersion.superseded_at.is_(None),
            DocumentVersion.created_at < end,
            Document.destroyed_at.is_(None),
        )
        .group_by(Document.archive_id)
    )
    for archive_id, count in rows:
        by_id[archive_id].versions_awaiting_review = count


def _appraisal(
    session: Session, by_id: dict[int, Figures], year: int, *, archive_id: int | None
) -> None:
    # Decided on the year's last day, so a record already eligible is not "due next year".
    report = compute_plan(session, date(year, 12, 31), archive_id=archive_id)
    due = report.plan.falling_due(date(year + 1, 1, 1), date(year + 1, 12, 31))
    counts = Counter(report.rows[decision.record_id].archive_id for decision in due)
    for key, count in counts.items():
        if key in by_id:
            by_id[key].appraisal_due = count


def _latest_run(session: Session, start: datetime, end: datetime) -> InspectionRun | None:
    return session.scalar(
        select(InspectionRun)
        .where(
            InspectionRun.started_at >= start,
            InspectionRun.started_at < end,
            InspectionRun.state.in_([InspectionState.PASSED, InspectionState.FAILED]),
        )
        .order_by(InspectionRun.started_at.desc(), InspectionRun.id.desc())
        .limit(1)
    )


def _fixity_by_archive(run: InspectionRun) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for finding in run.findings or []:
        if finding.get("problem") in FIXITY_PROBLEMS and finding.get("archive"):
            counts[finding["archive"]] += 1
    return counts


def _run_dict(run: InspectionRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    counts = run.counts or {}
    return {
        "run": run.id,
        "state": run.state.value,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "fixity_problems": sum(counts.get(name, 0) for name in sorted(FIXITY_PROBLEMS)),
    }


def _classes(session: Session) -> dict[str, dict[str, str]]:
    rows = session.execute(
        select(DocumentClass.code, DocumentClass.name_zh, DocumentClass.name_en).order_by(
            DocumentClass.sort_order, DocumentClass.code
        )
    )
    return {code: {"zh": zh, "en": en} for code, zh, en in rows}


def _sign_off(session: Session, year: int, scope: str) -> SignOff | None:
    row = session.scalar(
        select(YearEndReview).where(YearEndReview.year == year, YearEndReview.scope == scope)
    )
    if row is None:
        return None
    return SignOff(row.signed_by.username, row.signed_at, row.figures_sha256, dict(row.figures))


# ---------------------------------------------------------------- signing off


def sign_off(session: Session, actor: User, year: int, archive: str | None = None) -> Review:
    """Sign the review of ``year`` over the scope off; see the module docstring."""
    action = "sign off the year-end review"
    require(actor, Capability.SIGN_OFF_YEAR_END)
    result = _review(session, actor, year, archive)
    if result.hidden_archives:
        raise YearEndScopeHidden(action, actor.username, result.hidden_archives)
    if result.sign_off is not None:
        raise YearEndAlreadySignedOff(
            year,
            result.scope,
            result.sign_off.signed_by,
            f"{result.sign_off.signed_at:%Y-%m-%d %H:%M} UTC",
        )
    figures = result.figures()
    digest = figures_hash(figures)
    row = YearEndReview(
        year=year,
        scope=result.scope,
        signed_by_id=actor.id,
        signed_at=utcnow(),
        figures=figures,
        figures_sha256=digest,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # Another sign-off of the same year and scope committed between our look and ours.
        raise YearEndAlreadySignedOff(year, result.scope, "another user", "just now") from None
    total = result.total
    audit.record(
        session,
        actor,
        "year_end.sign_off",
        "year_end_review",
        f"{year}/{result.scope}",
        after={
            "figures_sha256": digest,
            "archives": len(result.archives),
            "filed": total.filed_total,
            "unconfirmed": total.unconfirmed_total,
            "unlocated": total.unlocated,
            "versions_awaiting_review": total.versions_awaiting_review,
            "appraisal_due": total.appraisal_due,
            "fixity_problems": total.fixity_problems,
        },
    )
    signed = SignOff(actor.username, row.signed_at, digest, figures)
    return Review(**{**result.__dict__, "sign_off": signed})
