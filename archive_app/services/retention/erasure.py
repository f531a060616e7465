"""Customer erasure requests (删除个人信息, PIPL art. 47 / GDPR art. 17) for one archive.

Contract: ``request_erasure`` records the request (audited) and marks the archive: from
then on the engine keeps its records only as long as the *statutory minimum* requires
(``erasure_requested``), and every record still kept is restricted to storage and security
(``access.ensure_accessible``: no view, text or download for anyone but compliance) until
it is destroyed. The customer relationship ends with the request: records whose rule runs
from ``relationship_end`` and lack that event get it, dated the archive's own
``relationship_end`` when one was entered, else the day before the request (so
a zero-year period has run out on the request day). Everything then eligible goes into a
disposition batch linked to the request, the same machinery as any destruction (review,
approvals by distinct compliance users, execution by someone else, certificate): nothing
is destroyed without the approvals. ``erasure_report`` is the report for the customer:
what was destroyed (with certificate), what is pending approval, what is kept, why and
until when, and the customer's consents. The request withdraws every consent still in
force (:func:`archive_app.services.consents.withdraw_all_for_erasure`).

Access: requests are taken by compliance (``HANDLE_ERASURE``: everything a request touches
becomes restricted to them), only for archives within the actor's clearance; requests and
reports are shown only to readers who may see the archive.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.domain.numbering import next_value
from archive_app.errors import Conflict, NotFound
from archive_app.models import (
    CustomerArchive,
    DestructionRecord,
    DispositionBatch,
    Document,
    ErasureRequest,
    User,
)
from archive_app.models.base import utcnow
from archive_app.permissions import (
    Capability,
    may_see_level,
    require,
    require_archive_visible,
    visible_levels,
)
from archive_app.search import updates as search_updates
from archive_app.services import audit, consents
from archive_app.services.retention import batches
from archive_app.services.retention.events import record_event
from archive_app.services.retention.planning import compute_plan
from archive_app.services.retention.schedule import rules_by_class
from retention import EVENT_RELATIONSHIP_END


def _archive(session: Session, actor: User, number: str) -> CustomerArchive:
    archive = session.scalar(
        select(CustomerArchive).where(CustomerArchive.number == number.strip())
    )
    require_archive_visible(actor, archive, number)
    assert archive is not None
    return archive


def request_erasure(
    session: Session,
    actor: User,
    archive_number: str,
    *,
    note: str = "",
    required_approvals: int,
    relationship_ended: date | None = None,
) -> tuple[ErasureRequest, DispositionBatch | None]:
    require(actor, Capability.HANDLE_ERASURE)
    archive = _archive(session, actor, archive_number)
    now = utcnow()
    open_request = session.scalar(
        select(ErasureRequest).where(
            ErasureRequest.archive_id == archive.id, ErasureRequest.completed_at.is_(None)
        )
    )
    if open_request is not None:
        raise Conflict(
            f"archive {archive.number} already has open erasure request {open_request.number}"
        )
    number = f"SC-{now.year:04d}-{next_value(session, f'erasure_request:{now.year}'):04d}"
    request = ErasureRequest(
        number=number, archive_id=archive.id, note=note.strip(), received_by_id=actor.id
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor,
        "retention.erasure.request",
        "archive",
        archive.number,
        after={"request": number, "note": request.note},
    )
    # Asking for erasure withdraws every consent the customer gave (PIPL art. 15, 47).
    consents.withdraw_all_for_erasure(session, actor, archive, number, now.date())
    ended = relationship_ended or archive.relationship_end or (now.date() - timedelta(days=1))
    by_class = rules_by_class(session)
    for document_number, class_code, has_event in _relationship_candidates(session, archive.id):
        rule = by_class.get(class_code)
        if rule is not None and rule.event_name == EVENT_RELATIONSHIP_END and not has_event:
            record_event(session, None, document_number, EVENT_RELATIONSHIP_END, ended)
    report = compute_plan(session, now.date(), archive_id=archive.id)
    batch_row = None
    if report.plan.eligible:
        batch_row, _batch = batches.create(
            session,
            actor,
            now.date(),
            required_approvals=required_approvals,
            archive_id=archive.id,
            erasure_request_id=request.id,
        )
    else:
        request.completed_at = now
    request.report = erasure_report_data(session, request)
    # Restricted records leave the search index: nobody finds them any more.
    live = session.scalars(
        select(Document.id).where(
            Document.archive_id == archive.id, Document.destroyed_at.is_(None)
        )
    ).all()
    search_updates.remove(session, live)
    return request, batch_row


def _relationship_candidates(session: Session, archive_id: int) -> list[tuple[str, str, bool]]:
    from archive_app.models import DocumentClass, RetentionEvent

    has_event = (
        select(RetentionEvent.id)
        .where(
            RetentionEvent.document_id == Document.id,
            RetentionEvent.event == EVENT_RELATIONSHIP_END,
        )
        .exists()
    )
    return [
        (number, code, bool(flag))
        for number, code, flag in session.execute(
            select(Document.number, DocumentClass.code, has_event)
            .join(DocumentClass, Document.class_id == DocumentClass.id)
            .where(Document.archive_id == archive_id, Document.destroyed_at.is_(None))
        )
    ]


def erasure_report_data(session: Session, request: ErasureRequest) -> dict[str, Any]:
    """The customer's report, as it stands now."""
    today = utcnow().date()
    report = compute_plan(session, today, archive_id=request.archive_id)
    batch_rows = list(
        session.scalars(
            select(DispositionBatch).where(DispositionBatch.erasure_request_id == request.id)
        )
    )
    pending = set()
    for row in batch_rows:
        if row.state in ("draft", "under_review", "approved"):
            pending.update(item["record_id"] for item in row.state_json["items"])
    records = {
        r.document_id: r
        for r in session.scalars(
            select(DestructionRecord)
            .join(Document)
            .where(Document.archive_id == request.archive_id)
        )
    }
    destroyed, pending_list, kept = [], [], []
    for decision in (*report.plan.eligible, *report.plan.not_eligible):
        row = report.rows[decision.record_id]
        entry = {"document": row.number, "title": row.title, "class": row.class_code}
        if decision.reason.value == "ALREADY_DESTROYED":
            record = records.get(row.id)
            entry["certificate"] = record.certificate_id if record else None
            entry["destroyed_at"] = record.destroyed_at.isoformat() if record else None
            destroyed.append(entry)
        elif decision.eligible or row.number in pending:
            entry["batch"] = next(
                (
                    b.number
                    for b in batch_rows
                    if any(i["record_id"] == row.number for i in b.state_json["items"])
                ),
                None,
            )
            pending_list.append(entry)
        else:
            entry.update(
                {
                    "reason": decision.reason.value,
                    "detail": decision.detail,
                    "kept_until": decision.eligible_on.isoformat()
                    if decision.eligible_on
                    else None,
                    "rule": decision.rule_code,
                    "restricted": True,
                }
            )
            kept.append(entry)
    return {
        "request": request.number,
        "archive": request.archive.number,
        "received_at": request.received_at.isoformat(),
        "completed_at": request.completed_at.isoformat() if request.completed_at else None,
        "as_of": today.isoformat(),
        "batches": [{"batch": b.number, "state": b.state} for b in batch_rows],
        "destroyed": destroyed,
        "pending_destruction": pending_list,
        "kept_restricted": kept,
        "consents": [
            {
                "purpose": consent.purpose,
                "scope": consent.scope,
                "given_on": consent.given_on.isoformat(),
                "channel": consent.channel,
                "withdrawn_on": consent.withdrawn_on.isoformat() if consent.withdrawn_on else None,
                "withdrawal_channel": consent.withdrawal_channel,
            }
            for consent in consents.consents_of(session, request.archive)
        ],
    }


def erasure_report(session: Session, actor: User, number: str) -> dict[str, Any]:
    require(actor, Capability.READ_RETENTION)
    request = session.scalar(select(ErasureRequest).where(ErasureRequest.number == number.strip()))
    if request is None or not may_see_level(actor, request.archive.level):
        raise NotFound("erasure request", number)
    data = erasure_report_data(session, request)
    request.report = data
    audit.record(session, actor, "retention.erasure.report", "erasure_request", request.number)
    return data


def list_requests(session: Session, actor: User) -> list[ErasureRequest]:
    """The requests on archives the actor may see, newest first."""
    require(actor, Capability.READ_RETENTION)
    return list(
        session.scalars(
            select(ErasureRequest)
            .join(CustomerArchive, ErasureRequest.archive_id == CustomerArchive.id)
            .where(CustomerArchive.level.in_(visible_levels(actor)))
            .order_by(ErasureRequest.id.desc())
        )
    )
