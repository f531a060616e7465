"""Legal holds (冻结/保全) and the unsettled-claim flag (未结清的债权债务).

Contract: a hold has a unique name, a reason and an owner, and covers whole archives or
single records; a record may be on several. While any hold covering it is active (or it
backs an unsettled claim) the record cannot be changed (:func:`ensure_changeable`, which
the document, checklist and version services call) and is never eligible for destruction
(the engine's HELD / UNSETTLED_CLAIM). Releasing a hold or settling a claim needs a reason;
rows are kept, audited, never deleted.

Clearance: a hold is placed only on archives and records the actor may see (others are
not found); it is listed, and may be released, only by users who may see everything it
covers; holds beyond a user's sight are counted, never named.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive_app.errors import Conflict, NotFound, ValidationFailed
from archive_app.models import (
    CustomerArchive,
    Document,
    LegalHold,
    LegalHoldTarget,
    UnsettledClaim,
    User,
)
from archive_app.models.base import utcnow
from archive_app.permissions import (
    Capability,
    Sight,
    require,
    require_archive_visible,
    require_record,
)
from archive_app.services import audit
from archive_app.services.retention.errors import LegalHoldActive, RecordDestroyed
from archive_app.services.retention.locking import hold_retention_lock

CHUNK = 500
UNSETTLED_CLAIM_HOLD = "unsettled-claim"


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def active_hold_names(session: Session, document_ids: Sequence[int]) -> dict[int, set[str]]:
    """Names of the active holds covering each document (directly or via its archive)."""
    result: dict[int, set[str]] = {}
    ids = list(document_ids)
    if not ids:
        return result
    archive_of: dict[int, int] = {}
    for chunk in _chunks(ids):
        archive_of.update(
            session.execute(
                select(Document.id, Document.archive_id).where(Document.id.in_(chunk))
            ).all()
        )
    active = (
        select(LegalHoldTarget.archive_id, LegalHoldTarget.document_id, LegalHold.name)
        .join(LegalHold, LegalHoldTarget.hold_id == LegalHold.id)
        .where(LegalHold.released_at.is_(None))
    )
    by_archive: dict[int, set[str]] = {}
    by_document: dict[int, set[str]] = {}
    for archive_id, document_id, name in session.execute(active):
        if archive_id is not None:
            by_archive.setdefault(archive_id, set()).add(name)
        if document_id is not None:
            by_document.setdefault(document_id, set()).add(name)
    for document_id in ids:
        names = by_document.get(document_id, set()) | by_archive.get(
            archive_of.get(document_id, -1), set()
        )
        if names:
            result[document_id] = names
    return result


def unsettled_document_ids(session: Session) -> set[int]:
    return set(
        session.scalars(
            select(UnsettledClaim.document_id).where(UnsettledClaim.settled_at.is_(None))
        )
    )


def ensure_changeable(session: Session, document: Document) -> None:
    """Refuse any change to a destroyed or held record."""
    if document.is_destroyed:
        raise RecordDestroyed(document.number)
    names = set(active_hold_names(session, [document.id]).get(document.id, ()))
    if document.id in unsettled_document_ids(session):
        names.add(UNSETTLED_CLAIM_HOLD)
    if names:
        raise LegalHoldActive(document.number, names)


def _document(session: Session, actor: User, number: str) -> Document:
    document = session.scalar(select(Document).where(Document.number == number.strip()))
    require_record(session, actor, document, number)
    assert document is not None
    return document


def _sees_hold(sight: Sight, hold: LegalHold) -> bool:
    for target in hold.targets:
        if target.archive is not None and not sight.archive(target.archive.level):
            return False
        document = target.document
        if document is not None and not sight.record(
            document.archive_id, document.archive.level, destroyed=document.is_destroyed
        ):
            return False
    return True


def create_hold(
    session: Session,
    actor: User,
    name: str,
    reason: str,
    *,
    archives: Sequence[str] = (),
    documents: Sequence[str] = (),
    owner: User | None = None,
) -> LegalHold:
    require(actor, Capability.MANAGE_RETENTION)
    # Wait for a destruction being executed, or make it wait for this hold.
    hold_retention_lock(session)
    problems = {}
    if not name.strip():
        problems["name"] = "a hold needs a name"
    if not reason.strip():
        problems["reason"] = "a hold needs a reason"
    if not archives and not documents:
        problems["targets"] = "name at least one archive or document"
    if problems:
        raise ValidationFailed(problems)
    if session.scalar(select(LegalHold.id).where(LegalHold.name == name.strip())) is not None:
        raise Conflict(f"a legal hold named {name.strip()!r} already exists")
    hold = LegalHold(name=name.strip(), reason=reason.strip(), owner_id=(owner or actor).id)
    session.add(hold)
    session.flush()
    for number in archives:
        archive = session.scalar(
            select(CustomerArchive).where(CustomerArchive.number == number.strip())
        )
        require_archive_visible(actor, archive, number)
        assert archive is not None
        session.add(LegalHoldTarget(hold_id=hold.id, archive_id=archive.id))
    for number in documents:
        target = _document(session, actor, number)
        session.add(LegalHoldTarget(hold_id=hold.id, document_id=target.id))
    session.flush()
    audit.record(
        session,
        actor,
        "retention.hold.create",
        "legal_hold",
        hold.name,
        after={
            "reason": hold.reason,
            "owner": (owner or actor).username,
            "archives": list(archives),
            "documents": list(documents),
        },
    )
    return hold


def release_hold(session: Session, actor: User, name: str, reason: str) -> LegalHold:
    require(actor, Capability.MANAGE_RETENTION)
    if not reason.strip():
        raise ValidationFailed({"reason": "releasing a hold needs a reason"})
    hold = session.scalar(select(LegalHold).where(LegalHold.name == name.strip()))
    if hold is None or not _sees_hold(Sight.of(session, actor), hold):
        raise NotFound("legal hold", name)
    if hold.released_at is not None:
        raise Conflict(f"legal hold {hold.name!r} was already released")
    hold.released_at = utcnow()
    hold.released_by_id = actor.id
    hold.release_reason = reason.strip()
    session.flush()
    audit.record(
        session,
        actor,
        "retention.hold.release",
        "legal_hold",
        hold.name,
        before={"active": True},
        after={"active": False, "reason": hold.release_reason},
    )
    return hold


@dataclass(frozen=True)
class HoldListing:
    holds: list[LegalHold]
    hidden: int  # holds covering something the actor may not see


def list_holds(session: Session, actor: User, *, include_released: bool = True) -> HoldListing:
    require(actor, Capability.READ_RETENTION)
    query = (
        select(LegalHold)
        .options(selectinload(LegalHold.targets).selectinload(LegalHoldTarget.archive))
        .options(selectinload(LegalHold.targets).selectinload(LegalHoldTarget.document))
        .order_by(LegalHold.released_at.is_not(None), LegalHold.created_at)
    )
    if not include_released:
        query = query.where(LegalHold.released_at.is_(None))
    sight = Sight.of(session, actor)
    shown, hidden = [], 0
    for hold in session.scalars(query):
        if _sees_hold(sight, hold):
            shown.append(hold)
        else:
            hidden += 1
    return HoldListing(shown, hidden)


def hold_target_labels(hold: LegalHold) -> list[str]:
    labels = []
    for target in hold.targets:
        if target.archive is not None:
            labels.append(target.archive.number)
        elif target.document is not None:
            labels.append(target.document.number)
    return labels


def flag_unsettled_claim(session: Session, actor: User, number: str, reason: str) -> UnsettledClaim:
    """Hold a voucher because it backs an unsettled claim or debt."""
    require(actor, Capability.MANAGE_RETENTION)
    if not reason.strip():
        raise ValidationFailed({"reason": "say which claim or debt the voucher backs"})
    document = _document(session, actor, number)
    claim = UnsettledClaim(document_id=document.id, reason=reason.strip(), flagged_by_id=actor.id)
    session.add(claim)
    session.flush()
    audit.record(
        session,
        actor,
        "retention.claim.flag",
        "document",
        document.number,
        after={"reason": reason},
    )
    return claim


def settle_unsettled_claim(session: Session, actor: User, number: str, reason: str) -> int:
    require(actor, Capability.MANAGE_RETENTION)
    if not reason.strip():
        raise ValidationFailed({"reason": "settling a claim needs a reason"})
    document = _document(session, actor, number)
    claims = list(
        session.scalars(
            select(UnsettledClaim).where(
                UnsettledClaim.document_id == document.id, UnsettledClaim.settled_at.is_(None)
            )
        )
    )
    if not claims:
        raise Conflict(f"document {document.number} backs no unsettled claim")
    for claim in claims:
        claim.settled_at = utcnow()
        claim.settled_by_id = actor.id
        claim.settle_reason = reason.strip()
    session.flush()
    audit.record(
        session,
        actor,
        "retention.claim.settle",
        "document",
        document.number,
        after={"reason": reason},
    )
    return len(claims)
