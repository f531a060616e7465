"""Customer archives: create, edit, list, view. Numbers are allocated gap-free in the
creating transaction (see :mod:`archive_app.domain.numbering`).

A customer's 统一社会信用代码 is checked with its GB 32100 check digit (older 15-, 17- and
20-character taxpayer numbers carry none and are accepted as they are). Tags are given as
one string separated by ``;``, ``,`` or ``；``/``，`` and kept unique and sorted. The list
filters by type, industry, region and tag and counts archives per value of one of them
(:func:`group_counts`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from archive_app.domain.numbering import (
    ARCHIVE_SEQUENCE,
    format_archive_number,
    next_value,
    next_values,
)
from archive_app.errors import ValidationFailed
from archive_app.models import CustomerArchive, CustomerTag, Document, User
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
from indexing.extract.checks import uscc_problem

FIELD_LIMITS = {
    "name": 300,
    "contact": 300,
    "address": 500,
    "business_unit": 200,
    "industry": 100,
    "region": 100,
    "tax_id": 64,
    "notes": 10_000,
}
TAG_LIMIT = 60
MAX_TAGS = 20
_TAG_SEPARATORS = re.compile(r"[;,；，]")
GROUPS = ("type", "industry", "region", "tag", "level")

# Called after an archive row is created, inside the same transaction, with its storage
# id: the app wires the encrypted store here so every archive gets its key at creation.
ArchiveCreatedHook = Callable[[CustomerArchive], None]
# The same for many archives at once (an import), given their storage ids.
ArchivesCreatedHook = Callable[[Sequence[str]], None]


@dataclass(frozen=True)
class ArchiveInput:
    name: str
    customer_type: str = CustomerType.COMPANY.value
    contact: str = ""
    address: str = ""
    business_unit: str = ""
    industry: str = ""
    region: str = ""
    tax_id: str = ""
    level: str = Level.INTERNAL.value
    notes: str = ""
    tags: str = ""

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
        values["tags"] = ";".join(split_tags(values["tags"]))
        return values


def split_tags(text: str) -> list[str]:
    """``"VIP; 华东,vip"`` → ``["VIP", "vip", "华东"]``: trimmed, unique, sorted."""
    return sorted({part.strip() for part in _TAG_SEPARATORS.split(text) if part.strip()})


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
    if values["tax_id"]:
        problem = uscc_problem(values["tax_id"])
        if problem is not None:
            problems["tax_id"] = str(problem)
    tags = split_tags(values["tags"])
    if len(tags) > MAX_TAGS:
        problems["tags"] = f"are more than {MAX_TAGS}"
    elif any(len(tag) > TAG_LIMIT for tag in tags):
        problems["tags"] = f"each must be at most {TAG_LIMIT} characters"
    return problems


def validate(values: Mapping[str, str], actor: User) -> dict[str, str]:
    """The problems of cleaned customer values (field → message), none when valid."""
    return _validate(values, actor)


def _assign(archive: CustomerArchive, values: Mapping[str, str]) -> None:
    archive.name = values["name"]
    archive.customer_type = CustomerType(values["customer_type"])
    archive.contact = values["contact"]
    archive.address = values["address"]
    archive.business_unit = values["business_unit"]
    archive.industry = values["industry"]
    archive.region = values["region"]
    archive.tax_id = values["tax_id"]
    archive.level = Level(values["level"])
    archive.notes = values["notes"]
    wanted = set(split_tags(values["tags"]))
    archive.tags = [tag for tag in archive.tags if tag.tag in wanted] + [
        CustomerTag(tag=name) for name in sorted(wanted - {tag.tag for tag in archive.tags})
    ]


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
        created_by_id=actor.id,
        tags=[],
    )
    _assign(archive, values)
    session.add(archive)
    session.flush()
    if on_created is not None:
        on_created(archive)
    audit.record(session, actor, "archive.create", "archive", number, after=archive.snapshot())
    return archive


def create_archives(
    session: Session,
    actor: User,
    inputs: Sequence[ArchiveInput],
    *,
    number_pattern: str,
    on_created: ArchivesCreatedHook | None = None,
) -> list[str]:
    """:func:`create_archive` for many archives in one go (an import): the same checks
    (all before anything is written), consecutive numbers taken at once, rows inserted in
    bulk, every key created in one step (``on_created`` gets the storage ids), and one
    ``archive.create`` entry per archive written in bulk. Returns the new numbers."""
    require(actor, Capability.MANAGE_ARCHIVES)
    cleaned = [data.cleaned() for data in inputs]
    for values in cleaned:
        problems = _validate(values, actor)
        if problems:
            raise ValidationFailed(problems)
    if not cleaned:
        return []
    now = utcnow()
    rows = [
        {
            **{name: values[name] for name in CustomerArchive.EDITABLE_FIELDS},
            "customer_type": CustomerType(values["customer_type"]),
            "level": Level(values["level"]),
            "number": format_archive_number(number_pattern, value),
            "storage_id": uuid.uuid4().hex,
            "created_at": now,
            "updated_at": now,
            "created_by_id": actor.id,
        }
        for values, value in zip(
            cleaned, next_values(session, ARCHIVE_SEQUENCE, len(cleaned)), strict=True
        )
    ]
    ids: list[int] = []
    for start in range(0, len(rows), 1000):
        ids.extend(
            session.scalars(
                insert(CustomerArchive).returning(CustomerArchive.id, sort_by_parameter_order=True),
                rows[start : start + 1000],
            )
        )
    tags = [
        {"archive_id": archive_id, "tag": tag}
        for archive_id, values in zip(ids, cleaned, strict=True)
        for tag in split_tags(values["tags"])
    ]
    for start in range(0, len(tags), 1000):
        session.execute(insert(CustomerTag), tags[start : start + 1000])
    if on_created is not None:
        on_created([row["storage_id"] for row in rows])
    snapshot_fields = (*CustomerArchive.EDITABLE_FIELDS, "tags")
    audit.record_many(
        session,
        actor,
        "archive.create",
        "archive",
        (
            (row["number"], {name: values[name] for name in snapshot_fields})
            for row, values in zip(rows, cleaned, strict=True)
        ),
    )
    return [row["number"] for row in rows]


def update_archive(
    session: Session, actor: User, number: str, data: ArchiveInput
) -> CustomerArchive:
    require(actor, Capability.MANAGE_ARCHIVES)
    archive = get_visible(session, actor, number)
    values = data.cleaned()
    problems = _validate(values, actor)
    if problems:
        raise ValidationFailed(problems)
    return apply_update(session, actor, archive, values)


def apply_update(
    session: Session, actor: User, archive: CustomerArchive, values: Mapping[str, str]
) -> CustomerArchive:
    """Write validated, cleaned ``values`` to a visible archive; audited when anything
    changed (the import calls it after its own checks)."""
    number = archive.number
    before = archive.snapshot()
    _assign(archive, values)
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
    customer_type: str | None = None,
    industry: str | None = None,
    region: str | None = None,
    tag: str | None = None,
    sort: str = "number",
    descending: bool = False,
    page: int = 1,
    per_page: int = 50,
    record_view: bool = True,
) -> ArchivePage:
    """Archives the actor may see, filtered by a number/name fragment and the customer's
    attributes (exact values; a tag matches any of the archive's tags), one page at a time."""
    require(actor, Capability.VIEW_ARCHIVES)
    text = query.strip()
    conditions = filter_conditions(
        actor,
        query=text,
        level=level,
        customer_type=customer_type,
        industry=industry,
        region=region,
        tag=tag,
    )
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
            after={
                "query": text,
                "filters": {
                    key: value
                    for key, value in (
                        ("level", level),
                        ("type", customer_type),
                        ("industry", industry),
                        ("region", region),
                        ("tag", tag),
                    )
                    if value
                },
                "page": page,
                "results": total,
            },
        )
    return ArchivePage(items=items, total=total, page=page, per_page=per_page)


def filter_conditions(
    actor: User,
    *,
    query: str = "",
    level: str | None = None,
    customer_type: str | None = None,
    industry: str | None = None,
    region: str | None = None,
    tag: str | None = None,
) -> list[Any]:
    """The WHERE conditions of a list: clearance first, then each filter given."""
    conditions: list[Any] = [CustomerArchive.level.in_(visible_levels(actor))]
    if query:
        pattern = f"%{_escape_like(query)}%"
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
    if customer_type:
        if customer_type not in {known.value for known in CustomerType}:
            raise ValidationFailed({"type": "must be company or person"})
        conditions.append(CustomerArchive.customer_type == CustomerType(customer_type))
    if industry:
        conditions.append(CustomerArchive.industry == industry.strip())
    if region:
        conditions.append(CustomerArchive.region == region.strip())
    if tag:
        conditions.append(
            CustomerArchive.id.in_(
                select(CustomerTag.archive_id).where(CustomerTag.tag == tag.strip())
            )
        )
    return conditions


@dataclass(frozen=True)
class Group:
    value: str
    archives: int
    documents: int


def group_counts(session: Session, actor: User, by: str, conditions: list[Any]) -> list[Group]:
    """Archives and their documents per value of ``by`` (type, industry, region, tag or
    level) among the archives matching ``conditions``; an archive with several tags counts
    under each. Largest groups first."""
    require(actor, Capability.VIEW_ARCHIVES)
    if by not in GROUPS:
        raise ValidationFailed({"group_by": f"must be one of {', '.join(GROUPS)}"})
    documents = (
        select(Document.archive_id, func.count(Document.id).label("n"))
        .group_by(Document.archive_id)
        .subquery()
    )
    keys: dict[str, Any] = {
        "type": CustomerArchive.customer_type,
        "industry": CustomerArchive.industry,
        "region": CustomerArchive.region,
        "level": CustomerArchive.level,
        "tag": func.coalesce(CustomerTag.tag, ""),
    }
    key = keys[by]
    statement = select(
        key.label("value"),
        func.count(CustomerArchive.id),
        func.coalesce(func.sum(documents.c.n), 0),
    ).select_from(CustomerArchive)
    if by == "tag":
        statement = statement.outerjoin(CustomerTag, CustomerTag.archive_id == CustomerArchive.id)
    rows = session.execute(
        statement.outerjoin(documents, documents.c.archive_id == CustomerArchive.id)
        .where(*conditions)
        .group_by(key)
    )
    groups = [Group(str(value or ""), int(count), int(docs)) for value, count, docs in rows]
    return sorted(groups, key=lambda group: (-group.archives, group.value))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
