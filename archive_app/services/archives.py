"""Customer archives: create, edit, list, view. Numbers are allocated gap-free in the
creating transaction (see :mod:`archive_app.domain.numbering`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive_app.domain.numbering import ARCHIVE_SEQUENCE, format_archive_number, next_value
from archive_app.errors import ValidationFailed
from archive_app.models import CustomerArchive, User
from archive_app.models.archive import CustomerType
from archive_app.models.base import utcnow
from archive_app.models.user import Level
from archive_app.permissions import (
    Capability,
    may_see_level,
    require,
    require_archive_visible,
    visible_levels,
)
from archive_app.search import updates as search_updates
from archive_app.services import audit

FIELD_LIMITS = {
    "name": 300,
    "contact": 300,
    "address": 500,
    "business_unit": 200,
    "tax_id": 64,
    "notes": 10_000,
}
# 统一社会信用代码 (18 characters) or an older 15-20 character tax registration number.
_TAX_ID = re.compile(r"[0-9A-Z]{15,20}")

# Called after an archive row is created, inside the same transaction, with its storage
# id: the app wires the encrypted store here so every archive gets its key at creation.
ArchiveCreatedHook = Callable[[CustomerArchive], None]


@dataclass(frozen=True)
class ArchiveInput:
    name: str
    customer_type: str = CustomerType.COMPANY.value
    contact: str = ""
    address: str = ""
    business_unit: str = ""
    tax_id: str = ""
    level: str = Level.INTERNAL.value
    notes: str = ""

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> ArchiveInput:
        known = {
            name: str(values[name])
            for name in cls.__dataclass_fields__
            if values.get(name) is not None
        }
        return cls(**known)

    def cleaned(self) -> dict[str, str]:
        values = {name: str(getattr(self, name)).strip() for name in self.__dataclass_fields__}
        values["tax_id"] = values["tax_id"].upper().replace(" ", "")
        return values


def _validate(values: Mapping[str, str], actor: User) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not values["name"]:
        problems["name"] = "is required"
    for name, limit in FIELD_LIMITS.items():
        if len(values[name]) > limit:
            problems[name] = f"is longer than {limit} characters"
    if values["customer_type"] not in {t.value for t in CustomerType}:
        problems["customer_type"] = "must be company or person"
    if values["level"] not in {level.value for level in Level}:
        problems["level"] = f"must be one of {', '.join(level.value for level in Level)}"
    elif not may_see_level(actor, values["level"]):
        problems["level"] = "is above your own clearance"
    if values["tax_id"] and not _TAX_ID.fullmatch(values["tax_id"]):
        problems["tax_id"] = (
            "must be 15 to 20 letters and digits (e.g. an 18-character credit code)"
        )
    return problems


def create_archive(
    session: Session,
    actor: User,
    data: ArchiveInput,
    *,
    number_pattern: str,
    on_created: ArchiveCreatedHook | None = None,
) -> CustomerArchive:
    require(actor, Capability.MANAGE_ARCHIVES)
    values = data.cleaned()
    problems = _validate(values, actor)
    if problems:
        raise ValidationFailed(problems)
    number = format_archive_number(number_pattern, next_value(session, ARCHIVE_SEQUENCE))
    now = utcnow()
    archive = CustomerArchive(
        created_at=now,
        updated_at=now,
        number=number,
        storage_id=uuid.uuid4().hex,
        name=values["name"],
        customer_type=CustomerType(values["customer_type"]),
        contact=values["contact"],
        address=values["address"],
        business_unit=values["business_unit"],
        tax_id=values["tax_id"],
        level=Level(values["level"]),
        notes=values["notes"],
        created_by_id=actor.id,
    )
    session.add(archive)
    session.flush()
    if on_created is not None:
        on_created(archive)
    audit.record(session, actor, "archive.create", "archive", number, after=archive.snapshot())
    return archive


def update_archive(
    session: Session, actor: User, number: str, data: ArchiveInput
) -> CustomerArchive:
    require(actor, Capability.MANAGE_ARCHIVES)
    archive = get_visible(session, actor, number)
    values = data.cleaned()
    problems = _validate(values, actor)
    if problems:
        raise ValidationFailed(problems)
    before = archive.snapshot()
    archive.name = values["name"]
    archive.customer_type = CustomerType(values["customer_type"])
    archive.contact = values["contact"]
    archive.address = values["address"]
    archive.business_unit = values["business_unit"]
    archive.tax_id = values["tax_id"]
    archive.level = Level(values["level"])
    archive.notes = values["notes"]
    after = archive.snapshot()
    changed_before = {k: v for k, v in before.items() if after[k] != v}
    if changed_before:
        archive.updated_at = utcnow()
        if {"name", "level"} & changed_before.keys():
            search_updates.reindex(session, archives=[archive.id])
        changed_after = {k: after[k] for k in changed_before}
        audit.record(
            session,
            actor,
            "archive.update",
            "archive",
            number,
            before=changed_before,
            after=changed_after,
        )
    return archive


def get_visible(session: Session, actor: User, number: str) -> CustomerArchive:
    archive = session.scalar(
        select(CustomerArchive).where(CustomerArchive.number == number.strip())
    )
    # An archive above the user's clearance is reported as missing, not as forbidden:
    # its existence is itself confidential.
    require_archive_visible(actor, archive, number)
    assert archive is not None
    return archive


def view_archive(session: Session, actor: User, number: str) -> CustomerArchive:
    require(actor, Capability.VIEW_ARCHIVES)
    archive = get_visible(session, actor, number)
    audit.record(session, actor, "archive.view", "archive", archive.number)
    return archive


@dataclass(frozen=True)
class ArchivePage:
    items: list[CustomerArchive]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


SORTABLE = {
    "number": CustomerArchive.number,
    "name": CustomerArchive.name,
    "created": CustomerArchive.created_at,
    "level": CustomerArchive.level,
}


def list_archives(
    session: Session,
    actor: User,
    *,
    query: str = "",
    level: str | None = None,
    sort: str = "number",
    descending: bool = False,
    page: int = 1,
    per_page: int = 50,
    record_view: bool = True,
) -> ArchivePage:
    """Archives the actor may see, filtered by a number/name fragment, one page at a time."""
    require(actor, Capability.VIEW_ARCHIVES)
    conditions = [CustomerArchive.level.in_(visible_levels(actor))]
    text = query.strip()
    if text:
        pattern = f"%{_escape_like(text)}%"
        conditions.append(
            or_(
                CustomerArchive.number.ilike(pattern, escape="\\"),
                CustomerArchive.name.ilike(pattern, escape="\\"),
            )
        )
    if level:
        if level not in {known.value for known in Level}:
            raise ValidationFailed(
                {"level": f"must be one of {', '.join(known.value for known in Level)}"}
            )
        conditions.append(CustomerArchive.level == Level(level))
    total = session.scalar(select(func.count(CustomerArchive.id)).where(*conditions)) or 0
    column = SORTABLE.get(sort, CustomerArchive.number)
    order = column.desc() if descending else column.asc()
    per_page = min(max(1, per_page), 500)
    # A page past the last shows the last one (an address typed by hand or out of date).
    page = min(max(1, page), max(1, -(-total // per_page)))
    items = list(
        session.scalars(
            select(CustomerArchive)
            .where(*conditions)
            .order_by(order, CustomerArchive.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    if record_view:
        audit.record(
            session,
            actor,
            "archive.list",
            "archive",
            "*",
            after={"query": text, "page": page, "results": total},
        )
    return ArchivePage(items=items, total=total, page=page, per_page=per_page)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
