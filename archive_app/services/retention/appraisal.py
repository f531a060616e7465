"""The periodic appraisal (鉴定): prepare the list of what is eligible and tell compliance.

Contract: ``run_appraisal(container, as_of, *, actor=None)`` computes the plan and writes at
most one notification per day (rerunning the same day changes nothing: the scheduled task is
idempotent). It never creates or executes a batch: nothing is destroyed without review
and approvals. The Celery beat schedule (``archive_app.tasks``) runs it daily. The notes are
read through :mod:`archive_app.services.notifications`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from archive_app.infra.container import Container
from archive_app.models import RetentionNotification, User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, require
from archive_app.services import audit
from archive_app.services.notifications import APPRAISAL as KIND
from archive_app.services.retention.planning import compute_plan


def run_appraisal(
    container: Container, as_of: date | None = None, *, actor: User | None = None
) -> RetentionNotification:
    """``actor`` None is the scheduled task; a user running it by hand must be allowed to
    manage retention, and is recorded as the one who ran it."""
    if actor is not None:
        require(actor, Capability.MANAGE_RETENTION)
    as_of = as_of or utcnow().date()
    with container.database.session() as session:
        existing = session.scalar(
            select(RetentionNotification).where(
                RetentionNotification.kind == KIND, RetentionNotification.as_of == as_of
            )
        )
        if existing is not None:
            return existing
        report = compute_plan(session, as_of)
        counts = {reason.value: n for reason, n in report.plan.counts.items() if n}
        eligible = len(report.plan.eligible)
        note = RetentionNotification(
            kind=KIND,
            as_of=as_of,
            subject="plan",
            eligible_count=eligible,
            counts=counts,
            message=f"{eligible} record(s) eligible for destruction on {as_of.isoformat()}",
        )
        session.add(note)
        session.flush()
        audit.record(
            session,
            actor,
            "retention.appraisal",
            "retention_plan",
            as_of.isoformat(),
            after={"eligible": eligible, "total": report.plan.total},
        )
        return note
