"""Reminders: the periodic task that turns waiting work into notes, and mails them.

Contract: :func:`run_reminders` is idempotent (the worker's beat runs it hourly; two workers
may run it at once). For ``today`` it ensures at most one note per kind and subject
(:mod:`archive_app.services.notifications` says who reads which kind):

- ``review``: per archive, checklist lines waiting for review since more than
  ``ARCHIVE_REMINDER_REVIEW_DAYS`` days; the note carries the archive's level;
- ``approval``: per destruction list under review whose items are all reviewed and whose
  approvals fall short; the note carries the highest level among its records;
- ``inspection``: the latest finished inspection failed or could not run;
- ``appraisal``: the periodic appraisal's note of the day
  (:func:`archive_app.services.retention.appraisal.run_appraisal`).

When ``ARCHIVE_SMTP_URL`` is set, every note of ``today`` not yet mailed is claimed (its
``mailed_at`` set in one statement, so a racing run skips it) and sent, one message per
user, to active users with an e-mail address who may read it. A server that cannot be
reached leaves the claimed notes unclaimed again for the next run; the notes themselves
stand either way. It runs in the worker only, never in a web request.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive_app.infra import mail
from archive_app.infra.config import Settings, parse_smtp_url
from archive_app.infra.container import Container
from archive_app.models import (
    ChecklistLine,
    ChecklistState,
    CustomerArchive,
    DispositionBatch,
    Document,
    InspectionRun,
    InspectionState,
    RetentionNotification,
    User,
)
from archive_app.models.base import utcnow
from archive_app.models.user import Level
from archive_app.services import notifications
from archive_app.services.notifications import APPRAISAL, APPROVAL, INSPECTION, REVIEW
from archive_app.services.retention.appraisal import run_appraisal
from retention import BatchState, batch_from_dict

log = logging.getLogger(__name__)


@dataclass
class ReminderReport:
    created: dict[str, int] = field(default_factory=dict)  # kind -> new notes
    mailed: list[str] = field(default_factory=list)  # recipients reached
    mail_failed: int = 0


def run_reminders(container: Container, now: datetime | None = None) -> ReminderReport:
    now = now or utcnow()
    today = now.date()
    report = ReminderReport()
    run_appraisal(container, today)
    with container.database.session() as session:
        for kind, notes in (
            (REVIEW, _review_notes(session, now, container.settings.reminder_review_days)),
            (APPROVAL, _approval_notes(session, today)),
            (INSPECTION, _inspection_notes(session, today)),
        ):
            report.created[kind] = sum(_add_once(session, note) for note in notes)
    if container.settings.smtp_url:
        _mail(container, today, report)
    return report


def _note(kind: str, today: date, subject: str, **values: object) -> RetentionNotification:
    return RetentionNotification(
        kind=kind, as_of=today, subject=subject, eligible_count=0, **values
    )


def _add_once(session: Session, note: RetentionNotification) -> bool:
    existing = session.scalar(
        select(RetentionNotification.id).where(
            RetentionNotification.kind == note.kind,
            RetentionNotification.subject == note.subject,
            RetentionNotification.as_of == note.as_of,
        )
    )
    if existing is not None:
        return False
    try:
        with session.begin_nested():
            session.add(note)
    except IntegrityError:  # a run at the same moment wrote it first
        return False
    return True


def _review_notes(session: Session, now: datetime, days: int) -> list[RetentionNotification]:
    rows = session.execute(
        select(
            CustomerArchive.number,
            CustomerArchive.level,
            func.count(ChecklistLine.id),
            func.min(ChecklistLine.submitted_at),
        )
        .join(CustomerArchive, ChecklistLine.archive_id == CustomerArchive.id)
        .where(
            ChecklistLine.state == ChecklistState.AWAITING_REVIEW,
            ChecklistLine.submitted_at < now - timedelta(days=days),
        )
        .group_by(CustomerArchive.number, CustomerArchive.level)
        .order_by(CustomerArchive.number)
    )
    return [
        _note(
            REVIEW,
            now.date(),
            f"archive:{number}",
            level=Level(level).value,
            counts={"lines": count, "days": days},
            message=f"{count} checklist line(s) of archive {number} waiting for review "
            f"for more than {days} day(s) (since {oldest:%Y-%m-%d})",
        )
        for number, level, count, oldest in rows
    ]


def _approval_notes(session: Session, today: date) -> list[RetentionNotification]:
    notes = []
    rows = session.scalars(
        select(DispositionBatch).where(DispositionBatch.state == BatchState.UNDER_REVIEW.value)
    )
    for row in rows:
        batch = batch_from_dict(row.state_json)
        if batch.unreviewed_ids or batch.approval_count >= batch.required_approvals:
            continue  # still being reviewed, or approved
        notes.append(
            _note(
                APPROVAL,
                today,
                f"batch:{row.number}",
                level=_highest_level(session, [item.record_id for item in batch.items]),
                counts={"approvals": batch.approval_count, "required": batch.required_approvals},
                message=f"destruction list {row.number} waits for approval "
                f"({batch.approval_count} of {batch.required_approvals})",
            )
        )
    return notes


def _highest_level(session: Session, numbers: list[str]) -> str | None:
    levels = {
        Level(level)
        for level in session.scalars(
            select(CustomerArchive.level)
            .join(Document, Document.archive_id == CustomerArchive.id)
            .where(Document.number.in_(numbers))
            .distinct()
        )
    }
    return max(levels, key=lambda level: level.rank).value if levels else None


def _inspection_notes(session: Session, today: date) -> list[RetentionNotification]:
    latest = session.scalar(
        select(InspectionRun)
        .where(InspectionRun.state.not_in([InspectionState.RUNNING, InspectionState.INTERRUPTED]))
        .order_by(InspectionRun.id.desc())
        .limit(1)
    )
    if latest is None or latest.state not in (InspectionState.FAILED, InspectionState.ERROR):
        return []
    return [
        _note(
            INSPECTION,
            today,
            f"run:{latest.id}",
            counts=dict(latest.counts),
            inspection_run_id=latest.id,
            message=f"inspection run {latest.id} {latest.state.value}",
        )
    ]


# ---------------------------------------------------------------- e-mail


def _mail(container: Container, today: date, report: ReminderReport) -> None:
    settings = container.settings
    with container.database.session() as session:
        claimed_at = utcnow()
        session.execute(
            update(RetentionNotification)
            .where(RetentionNotification.as_of == today, RetentionNotification.mailed_at.is_(None))
            .values(mailed_at=claimed_at)
        )
        notes = list(
            session.scalars(
                select(RetentionNotification).where(RetentionNotification.mailed_at == claimed_at)
            )
        )
        # An appraisal that found nothing eligible asks nobody to act.
        notes = [n for n in notes if not (n.kind == APPRAISAL and not n.eligible_count)]
        recipients = session.scalars(
            select(User).where(User.active.is_(True), User.email.is_not(None), User.email != "")
        )
        digests: dict[str, list[str]] = defaultdict(list)
        for user in recipients:
            for note in notes:
                if notifications.may_read(user, note):
                    digests[user.email or ""].append(describe(note))
    failed = _send_digests(settings, digests, report)
    if failed:
        with container.database.session() as session:
            session.execute(
                update(RetentionNotification)
                .where(RetentionNotification.mailed_at == claimed_at)
                .values(mailed_at=None)
            )


def _send_digests(
    settings: Settings, digests: dict[str, list[str]], report: ReminderReport
) -> bool:
    target = parse_smtp_url(settings.smtp_url or "")
    for address, lines in sorted(digests.items()):
        subject = f"[档案系统 Records Archive] {len(lines)} 条提醒 / {len(lines)} reminder(s)"
        body = "\n\n".join(lines) + "\n"
        try:
            mail.send(target, settings.smtp_from or "", address, subject, body)
        except (OSError, smtplib.SMTPException) as error:
            log.warning("reminder e-mail to %s not sent: %s", address, error)
            report.mail_failed += 1
            return True
        report.mailed.append(address)
    return False


def describe(note: RetentionNotification) -> str:
    """One note in both languages, for the e-mail (the pages translate their own)."""
    counts = note.counts or {}
    subject = (note.subject or "").split(":", 1)[-1]
    if note.kind == REVIEW:
        return (
            f"复核队列：档案 {subject} 有 {counts.get('lines', 0)} 条清单等待复核超过 "
            f"{counts.get('days', 0)} 天\nReview queue: {counts.get('lines', 0)} checklist "
            f"line(s) of archive {subject} waiting more than {counts.get('days', 0)} day(s)"
        )
    if note.kind == APPROVAL:
        got, need = counts.get("approvals", 0), counts.get("required", 0)
        return (
            f"销毁清册 {subject} 等待审批（{got}/{need}）\n"
            f"Destruction list {subject} waits for approval ({got} of {need})"
        )
    if note.kind == INSPECTION:
        problems = sum(counts.values())
        if problems:
            return f"定期检查发现 {problems} 个问题\nThe inspection found {problems} problem(s)"
        return "定期检查未能运行\nThe inspection could not run"
    return (
        f"鉴定到期：{note.eligible_count} 件档案可销毁\n"
        f"Appraisal due: {note.eligible_count} record(s) eligible for destruction"
    )
