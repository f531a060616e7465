"""Importing the customer information table (客户信息表) and exporting the archive list.

Contract of :func:`import_customers`:

- Each data row is matched to an existing archive by its 统一社会信用代码, else by its exact
  name; a match is updated, anything else creates a new archive. Within one file a tax ID
  or a name may appear only once.
- On an update only the columns the file has and the cells that are not empty change a
  value (an empty cell keeps what the archive holds); a row that changes nothing is
  ``unchanged``.
- A row is bad when a value is invalid (the same checks as the archive form, the tax ID
  with its GB 32100 check digit), when it repeats an earlier row, has more cells than the
  header, matches several archives of that name, matches by name an archive with another
  tax ID, or matches an archive the user may not see. Every bad row is reported with its
  line (the header is line 1) and reasons by field, each a code with its data
  (:class:`~archive_app.services.customer_problems.FieldProblem`: pages say it in the
  user's language) and its English sentence.
- A file with a bad row is refused whole (nothing written) unless ``skip_invalid``, which
  imports the good rows. ``dry_run`` reports what would be created or updated and writes
  nothing. Otherwise everything is written in the caller's transaction: each archive's
  own ``archive.create``/``archive.update`` entry, then one ``archive.import`` entry with
  the file name and the counts.

:func:`export_list` writes the archives the user may see (with the list's filters) as a
CSV or XLSX table that imports back; audited as ``archive.export_list``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.models import CustomerArchive, User
from archive_app.models.user import Level
from archive_app.permissions import Capability, require, visible_levels
from archive_app.services import archives as archive_service
from archive_app.services import audit
from archive_app.services import documents as document_service
from archive_app.services.archives import ArchiveInput, ArchivesCreatedHook
from archive_app.services.customer_problems import FieldProblem, english
from archive_app.services.customer_table import (
    COLUMNS,
    EXTRA_CELLS,
    LEVEL_WORDS,
    TYPE_WORDS,
    TableUnreadable,
    format_of,
    read_table,
    write_table,
)

CREATE, UPDATE, UNCHANGED, INVALID = "create", "update", "unchanged", "invalid"


@dataclass
class RowOutcome:
    line: int
    name: str
    action: str
    number: str | None = None
    problems: dict[str, FieldProblem] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """``problems`` in English by field, ``reasons`` the same as codes and data."""
        return {
            "line": self.line,
            "name": self.name,
            "action": self.action,
            "number": self.number,
            "problems": english(self.problems),
            "reasons": {name: problem.as_dict() for name, problem in self.problems.items()},
        }


@dataclass
class ImportReport:
    filename: str
    dry_run: bool
    skip_invalid: bool
    rows: list[RowOutcome]
    written: bool = False

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def bad_rows(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.action == INVALID]

    @property
    def refused(self) -> bool:
        """Bad rows and no ``skip_invalid``: nothing is (or would be) written."""
        return bool(self.bad_rows) and not self.skip_invalid

    def summary(self) -> dict[str, int]:
        return {action: self.count(action) for action in (CREATE, UPDATE, UNCHANGED, INVALID)}

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.filename,
            "dry_run": self.dry_run,
            "skip_invalid": self.skip_invalid,
            "refused": self.refused,
            "written": self.written,
            **self.summary(),
            "rows": [row.as_dict() for row in self.rows],
        }


@dataclass
class _Known:
    by_tax: dict[str, int]
    by_name: dict[str, list[int]]
    tax_of: dict[int, str]
    level_of: dict[int, str]


def _known(session: Session) -> _Known:
    known = _Known({}, {}, {}, {})
    rows = session.execute(
        select(
            CustomerArchive.id, CustomerArchive.name, CustomerArchive.tax_id, CustomerArchive.level
        )
    )
    for archive_id, name, tax_id, level in rows:
        if tax_id:
            known.by_tax[tax_id] = archive_id
        known.by_name.setdefault(name, []).append(archive_id)
        known.tax_of[archive_id] = tax_id
        known.level_of[archive_id] = Level(level).value
    return known


def _words(values: dict[str, str]) -> dict[str, str]:
    """The table's Chinese words for type and level, as the form's values."""
    values = dict(values)
    kind = values.get("customer_type", "")
    values["customer_type"] = TYPE_WORDS.get(kind, kind.lower())
    level = values.get("level", "")
    values["level"] = LEVEL_WORDS.get(level, level.lower())
    return values


def _match(
    known: _Known, values: Mapping[str, str], problems: dict[str, FieldProblem]
) -> int | None:
    tax_id, name = values["tax_id"], values["name"]
    if tax_id and tax_id in known.by_tax:
        return known.by_tax[tax_id]
    candidates = known.by_name.get(name, [])
    if len(candidates) > 1:
        problems["name"] = FieldProblem("ambiguous_name", {"count": len(candidates)})
        return None
    if not candidates:
        return None
    if tax_id and known.tax_of[candidates[0]]:
        problems["tax_id"] = FieldProblem("other_tax_id")
        return None
    return candidates[0]


def _load(session: Session, ids: list[int]) -> dict[int, CustomerArchive]:
    """The matched archives, with their tags, a few hundred per query."""
    loaded: dict[int, CustomerArchive] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        loaded.update(
            (archive.id, archive)
            for archive in session.scalars(
                select(CustomerArchive).where(CustomerArchive.id.in_(chunk))
            )
        )
    return loaded


def import_customers(
    session: Session,
    actor: User,
    data: bytes,
    filename: str,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    number_pattern: str,
    on_created: ArchivesCreatedHook | None = None,
) -> ImportReport:
    require(actor, Capability.MANAGE_ARCHIVES)
    table = read_table(data, filename)
    if not table:
        raise TableUnreadable(filename, "the file has no data rows")
    present = {name for name, _ in COLUMNS} & set(table[0].values)
    known = _known(session)
    visible = {level.value for level in visible_levels(actor)}
    seen_tax: dict[str, int] = {}
    seen_name: dict[str, int] = {}
    report = ImportReport(filename, dry_run, skip_invalid, [])
    plans: list[tuple[RowOutcome, dict[str, str], int | None]] = []
    matched: list[tuple[RowOutcome, dict[str, str], int | None, dict[str, str]]] = []
    for row in table:
        given = _words(row.values)
        cleaned = ArchiveInput.from_mapping(
            {"name": "", **{key: value for key, value in given.items() if value}}
        ).cleaned()
        problems: dict[str, FieldProblem] = {}
        if EXTRA_CELLS in row.values:
            problems["row"] = FieldProblem("extra_cells")
        if cleaned["tax_id"] and cleaned["tax_id"] in seen_tax:
            problems["tax_id"] = FieldProblem("repeats_line", {"line": seen_tax[cleaned["tax_id"]]})
        if cleaned["name"] and cleaned["name"] in seen_name:
            problems["name"] = FieldProblem("repeats_line", {"line": seen_name[cleaned["name"]]})
        if cleaned["tax_id"]:
            seen_tax.setdefault(cleaned["tax_id"], row.line)
        if cleaned["name"]:
            seen_name.setdefault(cleaned["name"], row.line)
        target = None if problems else _match(known, cleaned, problems)
        if target is not None and known.level_of[target] not in visible:
            problems["name"] = FieldProblem("not_yours")
            target = None
        outcome = RowOutcome(row.line, cleaned["name"], CREATE, problems=problems)
        given_cells = {key: cleaned[key] for key in present if row.values.get(key, "")}
        matched.append((outcome, cleaned, target, given_cells))
    archives_by_id = _load(session, [target for _, _, target, _ in matched if target])
    for outcome, cleaned, target, given_cells in matched:
        values = cleaned
        if target is not None:
            archive = archives_by_id[target]
            current = archive.snapshot()
            values = ArchiveInput.from_mapping({**current, **given_cells}).cleaned()
            outcome.number = archive.number
            outcome.action = UPDATE if values != current else UNCHANGED
        problems = outcome.problems
        problems.update(
            {k: v for k, v in archive_service.validate(values, actor).items() if k not in problems}
        )
        if problems:
            outcome.action = INVALID
        report.rows.append(outcome)
        plans.append((outcome, values, target))
    if dry_run or report.refused:
        return report
    creates = [(outcome, values) for outcome, values, _ in plans if outcome.action == CREATE]
    created = archive_service.create_archives(
        session,
        actor,
        [ArchiveInput.from_mapping(values) for _, values in creates],
        number_pattern=number_pattern,
        on_created=on_created,
    )
    for (outcome, _), number in zip(creates, created, strict=True):
        outcome.number = number
    for outcome, values, target in plans:
        if outcome.action == UPDATE and target is not None:
            archive_service.apply_update(session, actor, archives_by_id[target], values)
    report.written = True
    audit.record(
        session,
        actor,
        "archive.import",
        "archive",
        "*",
        after={
            "file": filename,
            **report.summary(),
            "skipped_lines": [row.line for row in report.bad_rows],
        },
    )
    return report


def export_list(
    session: Session, actor: User, fmt: str, filters: Mapping[str, str | None]
) -> bytes:
    """The archives the actor may see (filtered like the list) as a table file."""
    require(actor, Capability.VIEW_ARCHIVES)
    conditions = archive_service.filter_conditions(actor, **filters)
    archives = list(
        session.scalars(select(CustomerArchive).where(*conditions).order_by(CustomerArchive.number))
    )
    counts = document_service.document_counts(session, [a.id for a in archives])
    rows = []
    for archive in archives:
        row: dict[str, object] = dict(archive.snapshot())
        row["number"] = archive.number
        row["documents"] = counts.get(archive.id, 0)
        rows.append(row)
    audit.record(
        session,
        actor,
        "archive.export_list",
        "archive",
        "*",
        after={
            "format": fmt,
            "filters": {k: v for k, v in filters.items() if v},
            "rows": len(rows),
        },
    )
    return write_table(rows, fmt, export=True)


def export_format(filename: str) -> str:
    return format_of(filename)
