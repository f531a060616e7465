"""Reading the audit trail: the filtered, paged listing and its export (``/audit``,
``archive audit list|export``).

Contract:

- Only users who may read the trail (auditors, compliance, admins: ``READ_AUDIT``) list or
  export it; :func:`require_reader` refuses anyone else before anything is parsed.
- :class:`AuditFilter` holds the filters: actor (user name), action (exact, or a prefix
  ending in ``*``: ``retention.*``), object type (``archive``, ``document``, ``batch``,
  ``user``, or any recorded type) and id, outcome (``ok``, ``refused``, ``failed``), and a
  time range of whole UTC days (``since`` and ``until`` both included). Bad values raise
  :class:`ValidationFailed` naming the field.
- :func:`list_entries` answers one page, newest first, keyset-paged on the sequence
  number (``before``: the page continues below that entry); at most :data:`MAX_LIMIT`
  entries a page. :func:`export_entries` writes the whole filtered view, oldest first,
  through :class:`archive_app.services.audit_export.ExportWriter`.
- Reading is itself audited: one ``audit.view`` entry per page listed and one
  ``audit.export`` entry per export, each with the filters (not one entry per row).
- **The clearance rule**: a reader sees every entry of the trail (what happened, when, by
  whom, to which number), but the before/after values of an entry about an archive or a
  document above the reader's clearance are withheld: they hold names, titles and field
  values of what the reader may not see. When the object's level cannot be known (a
  document that no longer exists), the values are withheld from anyone not cleared for
  every level. Withheld entries are marked as such, on the page and in exports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import IO, Any

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from archive_app.errors import ValidationFailed
from archive_app.models import AuditEntry, CustomerArchive, Document, User
from archive_app.models.audit import OUTCOMES
from archive_app.models.user import Level
from archive_app.permissions import Capability, require, visible_levels
from archive_app.services import audit
from archive_app.services.audit_export import ExportWriter, canonical_time

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
_BATCH = 1000
# Short names for the object types people filter by; any other recorded type is taken as is.
OBJECT_TYPES = {
    "archive": "archive",
    "document": "document",
    "batch": "disposition_batch",
    "user": "user",
}
TRAIL = "audit_trail"
# Entries are read as plain rows, not as ORM objects: an export reads thousands, and
# building and tracking an object for each cost about a sixth of its time (bench/audit.py).
_COLUMNS = (
    AuditEntry.seq,
    AuditEntry.at,
    AuditEntry.actor_name,
    AuditEntry.action,
    AuditEntry.object_type,
    AuditEntry.object_id,
    AuditEntry.outcome,
    AuditEntry.before,
    AuditEntry.after,
    AuditEntry.prev_hash,
    AuditEntry.entry_hash,
)


def require_reader(actor: User) -> None:
    require(actor, Capability.READ_AUDIT)


def _day(name: str, value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({name: f"{value!r} is not a date (YYYY-MM-DD)"}) from None


def _text(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    outcome: str | None = None
    since: date | None = None
    until: date | None = None

    @classmethod
    def parse(
        cls,
        *,
        actor: str | None = None,
        action: str | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
        outcome: str | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
    ) -> AuditFilter:
        problems: dict[str, str] = {}
        kind = _text(object_type)
        if kind is not None:
            kind = OBJECT_TYPES.get(kind, kind)
        result = _text(outcome)
        if result is not None and result not in OUTCOMES:
            problems["outcome"] = f"must be one of {', '.join(OUTCOMES)}"
        first = last = None
        try:
            first = _day("since", since)
        except ValidationFailed as error:
            problems.update(error.problems)
        try:
            last = _day("until", until)
        except ValidationFailed as error:
            problems.update(error.problems)
        if first and last and last < first:
            problems["until"] = "the end date is before the start date"
        if problems:
            raise ValidationFailed(problems)
        name = _text(actor)
        return cls(
            actor=name.lower() if name else None,
            action=_text(action),
            object_type=kind,
            object_id=_text(object_id),
            outcome=result,
            since=first,
            until=last,
        )

    @classmethod
    def parse_object(cls, text: str | None) -> tuple[str | None, str | None]:
        """``archive:KH-000001`` (type and id), ``archive`` (a type alone) or ``KH-000001``
        (an id of any type): the CLI's ``--object``."""
        value = _text(text)
        if value is None:
            return None, None
        kind, separator, identifier = value.partition(":")
        if separator:
            return _text(kind), _text(identifier)
        if value in OBJECT_TYPES or value in OBJECT_TYPES.values():
            return value, None
        return None, value

    def as_dict(self) -> dict[str, str]:
        """The filters set, as recorded in the trail and put into links."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "outcome": self.outcome,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {name: value for name, value in values.items() if value is not None}

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.actor:
            query = query.where(AuditEntry.actor_name == self.actor)
        if self.action:
            if self.action.endswith("*"):
                query = query.where(AuditEntry.action.startswith(self.action[:-1], autoescape=True))
            else:
                query = query.where(AuditEntry.action == self.action)
        if self.object_type:
            query = query.where(AuditEntry.object_type == self.object_type)
        if self.object_id:
            query = query.where(AuditEntry.object_id == self.object_id)
        if self.outcome:
            query = query.where(AuditEntry.outcome == self.outcome)
        if self.since:
            query = query.where(AuditEntry.at >= datetime.combine(self.since, time(), UTC))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time(), UTC)
            query = query.where(AuditEntry.at < end)
        return query


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class EntryView:
    """One entry as a reader may see it."""

    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    outcome: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    entry_hash: str
    withheld: bool

    @property
    def changes(self) -> list[Change]:
        """The before/after values field by field, as text, in a stable order."""
        before, after = self.before or {}, self.after or {}
        names = list(dict.fromkeys([*before, *after]))
        return [Change(name, _shown(before, name), _shown(after, name)) for name in names]

    def export(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": canonical_time(self.at),
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "outcome": self.outcome,
            "before": self.before,
            "after": self.after,
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
            "withheld": self.withheld,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.export(), "at": self.at.isoformat()}


def _shown(values: Mapping[str, Any], name: str) -> str | None:
    if name not in values:
        return None
    value = values[name]
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class _Clearance:
    """Which entries' values a reader may see: their objects' levels, one query per kind
    and batch of entries."""

    def __init__(self, reader: User) -> None:
        self.visible = frozenset(visible_levels(reader))
        self.sees_all = self.visible == frozenset(Level)

    def withheld(self, session: Session, entries: Sequence[Row[Any]]) -> set[int]:
        if self.sees_all:
            return set()
        archives = {e.object_id for e in entries if e.object_type == "archive"}
        documents = {e.object_id for e in entries if e.object_type == "document"}
        levels: dict[tuple[str, str], Level] = {}
        if archives:
            for number, level in session.execute(
                select(CustomerArchive.number, CustomerArchive.level).where(
                    CustomerArchive.number.in_(archives)
                )
            ):
                levels["archive", number] = Level(level)
        if documents:
            for number, level in session.execute(
                select(Document.number, CustomerArchive.level)
                .join(CustomerArchive, Document.archive_id == CustomerArchive.id)
                .where(Document.number.in_(documents))
            ):
                levels["document", number] = Level(level)
        hidden = set()
        for entry in entries:
            if entry.object_type not in ("archive", "document"):
                continue
            level = levels.get((entry.object_type, entry.object_id))
            if entry.object_id == "*" and level is None:
                continue  # a listing of many, naming none
            if level is None or level not in self.visible:
                hidden.add(entry.seq)
        return hidden


def _views(session: Session, clearance: _Clearance, rows: Sequence[Row[Any]]) -> list[EntryView]:
    hidden = clearance.withheld(session, rows)
    return [
        EntryView(
            seq=row.seq,
            at=row.at,
            actor=row.actor_name,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            outcome=row.outcome,
            before=None if row.seq in hidden else row.before,
            after=None if row.seq in hidden else row.after,
            prev_hash=row.prev_hash,
            entry_hash=row.entry_hash,
            withheld=row.seq in hidden,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class AuditPage:
    entries: list[EntryView]
    filters: AuditFilter
    before: int | None  # where this page starts (None: the newest entries)
    next_before: int | None  # the cursor of the next (older) page, None at the end
    limit: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "filters": self.filters.as_dict(),
            "entries": [entry.as_dict() for entry in self.entries],
            "next_before": self.next_before,
        }


def check_limit(limit: int | str | None) -> int:
    if limit is None or limit == "":
        return DEFAULT_LIMIT
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise ValidationFailed({"limit": f"{limit!r} is not a whole number"}) from None
    if not 1 <= value <= MAX_LIMIT:
        raise ValidationFailed({"limit": f"must be between 1 and {MAX_LIMIT}"})
    return value


def list_entries(
    session: Session,
    actor: User,
    filters: AuditFilter,
    *,
    before: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> AuditPage:
    """One page of the filtered trail, newest first; recorded as one ``audit.view``."""
    require_reader(actor)
    limit = check_limit(limit)
    query = filters.apply(select(*_COLUMNS))
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    rows = session.execute(query.order_by(AuditEntry.seq.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    entries = _views(session, _Clearance(actor), rows)
    page = AuditPage(
        entries=entries,
        filters=filters,
        before=before,
        next_before=rows[-1].seq if more and rows else None,
        limit=limit,
    )
    audit.record(
        session,
        actor,
        "audit.view",
        TRAIL,
        "entries",
        after={
            "filters": filters.as_dict(),
            "before": before,
            "limit": limit,
            "shown": len(entries),
        },
    )
    return page


def iter_entries(session: Session, actor: User, filters: AuditFilter) -> Iterator[EntryView]:
    """The whole filtered view, oldest first, a batch of rows at a time."""
    clearance = _Clearance(actor)
    after_seq = 0
    while True:
        rows = session.execute(
            filters.apply(select(*_COLUMNS))
            .where(AuditEntry.seq > after_seq)
            .order_by(AuditEntry.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        yield from _views(session, clearance, rows)
        after_seq = rows[-1].seq


def export_entries(
    session: Session, actor: User, filters: AuditFilter, fmt: str, out: IO[bytes]
) -> int:
    """Write the filtered view to ``out`` as ``csv`` or ``jsonl``; recorded as one
    ``audit.export`` with the filters and the number of entries. Returns that number."""
    require_reader(actor)
    if fmt not in ("csv", "jsonl"):
        raise ValidationFailed({"format": "must be csv or jsonl"})
    writer = ExportWriter(out, fmt)
    withheld = 0
    for entry in iter_entries(session, actor, filters):
        writer.write(entry.export())
        withheld += entry.withheld
    writer.close()
    audit.record(
        session,
        actor,
        "audit.export",
        TRAIL,
        "entries",
        after={
            "filters": filters.as_dict(),
            "format": fmt,
            "entries": writer.count,
            "withheld": withheld,
        },
    )
    return writer.count


def distinct_actions(session: Session, actor: User) -> list[str]:
    """The actions recorded so far, for the filter's suggestions."""
    require_reader(actor)
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
