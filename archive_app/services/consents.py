"""Consent records for a customer's personal data: record, withdraw, list.

Contract: a consent names its purpose (required), scope, the day it was given (not in
the future) and the channel it came through (required: 书面, 线上, 电话 ...). It is
never deleted; withdrawing records the day (not before it was given, not in the future)
and the channel, once. Recording and withdrawing need the right to manage archives and
sight of the archive; both are audited (``consent.record``, ``consent.withdraw``, on the
archive). Listing needs sight of the archive. An erasure request withdraws every consent
still in force, dated the request day, through the channel "erasure request SC-..."
(:func:`withdraw_all_for_erasure`, called by the erasure service), and its report lists
the consents.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.errors import Conflict, NotFound, ValidationFailed
from archive_app.models import CustomerArchive, CustomerConsent, User
from archive_app.models.base import utcnow
from archive_app.permissions import Capability, require
from archive_app.services import audit
from archive_app.services.archives import get_visible

LIMITS = {"purpose": 300, "scope": 500, "channel": 100}


def _checked(values: dict[str, str]) -> dict[str, str]:
    problems = {}
    for name, limit in LIMITS.items():
        if len(values.get(name, "")) > limit:
            problems[name] = f"is longer than {limit} characters"
    for name in ("purpose", "channel"):
        if not values.get(name):
            problems[name] = "is required"
    if problems:
        raise ValidationFailed(problems)
    return values


def record_consent(
    session: Session,
    actor: User,
    archive_number: str,
    *,
    purpose: str,
    scope: str = "",
    given_on: date,
    channel: str,
) -> CustomerConsent:
    require(actor, Capability.MANAGE_ARCHIVES)
    archive = get_visible(session, actor, archive_number)
    values = _checked(
        {"purpose": purpose.strip(), "scope": scope.strip(), "channel": channel.strip()}
    )
    if given_on > utcnow().date():
        raise ValidationFailed({"given_on": "is in the future"})
    consent = CustomerConsent(
        archive_id=archive.id,
        given_on=given_on,
        recorded_by_id=actor.id,
        recorded_at=utcnow(),
        withdrawal_channel="",
        **values,
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        actor,
        "consent.record",
        "archive",
        archive.number,
        after={"consent": consent.id, **consent.snapshot()},
    )
    return consent


def withdraw_consent(
    session: Session,
    actor: User,
    archive_number: str,
    consent_id: int,
    *,
    withdrawn_on: date,
    channel: str,
) -> CustomerConsent:
    require(actor, Capability.MANAGE_ARCHIVES)
    archive = get_visible(session, actor, archive_number)
    consent = session.get(CustomerConsent, consent_id)
    if consent is None or consent.archive_id != archive.id:
        raise NotFound("consent", f"{archive.number}/{consent_id}")
    if not consent.active:
        raise Conflict(f"consent {consent_id} was already withdrawn on {consent.withdrawn_on}")
    values = _checked({"purpose": consent.purpose, "channel": channel.strip()})
    if withdrawn_on > utcnow().date():
        raise ValidationFailed({"withdrawn_on": "is in the future"})
    if withdrawn_on < consent.given_on:
        raise ValidationFailed({"withdrawn_on": "is before the consent was given"})
    _withdraw(session, actor, archive, consent, withdrawn_on, values["channel"])
    return consent


def _withdraw(
    session: Session,
    actor: User | None,
    archive: CustomerArchive,
    consent: CustomerConsent,
    day: date,
    channel: str,
) -> None:
    consent.withdrawn_on = day
    consent.withdrawal_channel = channel
    audit.record(
        session,
        actor,
        "consent.withdraw",
        "archive",
        archive.number,
        after={"consent": consent.id, "withdrawn_on": day.isoformat(), "channel": channel},
    )


def consents_of(session: Session, archive: CustomerArchive) -> list[CustomerConsent]:
    """The archive's consents, oldest first (the caller has checked sight of it)."""
    return list(
        session.scalars(
            select(CustomerConsent)
            .where(CustomerConsent.archive_id == archive.id)
            .order_by(CustomerConsent.given_on, CustomerConsent.id)
        )
    )


def list_consents(session: Session, actor: User, archive_number: str) -> list[CustomerConsent]:
    require(actor, Capability.VIEW_ARCHIVES)
    return consents_of(session, get_visible(session, actor, archive_number))


def withdraw_all_for_erasure(
    session: Session, actor: User, archive: CustomerArchive, request_number: str, day: date
) -> int:
    """Withdraw every consent still in force: the customer asked for erasure."""
    count = 0
    for consent in consents_of(session, archive):
        if consent.active:
            _withdraw(
                session,
                actor,
                archive,
                consent,
                max(day, consent.given_on),
                f"erasure request {request_number}",
            )
            count += 1
    return count


def as_dict(consent: CustomerConsent) -> dict[str, Any]:
    return {
        "id": consent.id,
        **consent.snapshot(),
        "active": consent.active,
        "recorded_by": consent.recorded_by.username,
        "recorded_at": consent.recorded_at.isoformat(),
    }
