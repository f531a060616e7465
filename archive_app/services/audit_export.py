"""Exported audit entries (CSV and JSON Lines) and their offline verification.

Contract:

- An exported entry carries everything its hash covers, exactly as hashed: ``seq``,
  ``at`` (UTC, microseconds, ``2026-11-24T09:30:00.123456Z``), ``actor``, ``action``,
  ``object_type``, ``object_id``, ``outcome``, ``before``, ``after``, ``prev_hash``,
  ``entry_hash``, and ``withheld``. Entries are written oldest first.
- ``withheld`` is true when the reader's clearance kept the entry's before/after values
  out of the export (:mod:`archive_app.services.audit_query`); such an entry's hash cannot
  be recomputed, only its links to its neighbours checked, and the report counts it.
- :func:`verify_export` needs no database: it recomputes every entry's hash, checks that
  each entry links to the one before it wherever the export holds both (a filtered export
  has gaps, reported as such, not as breaks), and names the first line that does not
  verify. An export that starts at entry 1 is also checked against the chain's start.
- CSV holds the same fields; ``before`` and ``after`` are JSON text in their cells.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from archive_app.models.audit import GENESIS_HASH
from archive_app.services.audit import compute_entry_hash

FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "before",
    "after",
    "prev_hash",
    "entry_hash",
    "withheld",
)
FORMATS = ("csv", "jsonl")
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_TIME)


def _json_cell(values: Mapping[str, Any] | None) -> str:
    return "" if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True)


class ExportWriter:
    """Writes exported entries (dicts of :data:`FIELDS`) to a binary stream."""

    def __init__(self, out: IO[bytes], fmt: str) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}")
        self.out = out
        self.fmt = fmt
        self.count = 0
        if fmt == "csv":
            self._text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
            self._csv = csv.writer(self._text)
            self._csv.writerow(FIELDS)

    def write(self, entry: Mapping[str, Any]) -> None:
        if self.fmt == "jsonl":
            line = json.dumps({name: entry[name] for name in FIELDS}, ensure_ascii=False)
            self.out.write(line.encode("utf-8") + b"\n")
        else:
            row = dict(entry)
            row["before"], row["after"] = _json_cell(entry["before"]), _json_cell(entry["after"])
            row["withheld"] = "true" if entry["withheld"] else "false"
            self._csv.writerow([row[name] for name in FIELDS])
        self.count += 1

    def close(self) -> None:
        if self.fmt == "csv":
            self._text.flush()
            self._text.detach()  # the caller owns the stream


@dataclass
class ExportReport:
    ok: bool = True
    entries: int = 0
    verified: int = 0  # hashes recomputed and equal
    withheld: int = 0  # values withheld: only the links were checked
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (after seq, next seq)
    first_seq: int | None = None
    last_seq: int | None = None
    broken_line: int | None = None
    problem: str | None = None

    def fail(self, line: int, problem: str) -> ExportReport:
        self.ok, self.broken_line, self.problem = False, line, problem
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "verified": self.verified,
            "withheld": self.withheld,
            "gaps": len(self.gaps),
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "broken_line": self.broken_line,
            "problem": self.problem,
        }


def _jsonl_entries(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, json.loads(line)


def _csv_entries(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(lines)
    if tuple(reader.fieldnames or ()) != FIELDS:
        raise ValueError("the header is not that of an audit export")
    for row in reader:
        entry: dict[str, Any] = dict(row)
        entry["seq"] = int(row["seq"])
        entry["before"] = json.loads(row["before"]) if row["before"] else None
        entry["after"] = json.loads(row["after"]) if row["after"] else None
        entry["withheld"] = row["withheld"] == "true"
        yield reader.line_num, entry


def verify_export(text: str, fmt: str | None = None) -> ExportReport:
    """Check an exported file's entries (``fmt`` ``csv`` or ``jsonl``; guessed from the
    first line when None) without a database."""
    lines = text.splitlines(keepends=True)
    if fmt is None:
        fmt = "csv" if lines and lines[0].startswith("seq,") else "jsonl"
    report = ExportReport()
    previous: dict[str, Any] | None = None
    entries = _csv_entries(lines) if fmt == "csv" else _jsonl_entries(lines)
    number = 0
    try:
        for number, entry in entries:
            problem = _check_entry(entry, previous, report)
            if problem is not None:
                return report.fail(number, problem)
            previous = entry
    except (ValueError, KeyError, TypeError) as error:
        return report.fail(number + 1, f"unreadable entry ({error})")
    if report.entries == 0:
        return report.fail(1, "the file holds no audit entries")
    return report


def _check_entry(
    entry: dict[str, Any], previous: dict[str, Any] | None, report: ExportReport
) -> str | None:
    seq = int(entry["seq"])
    if previous is None:
        report.first_seq = seq
        if seq == 1 and entry["prev_hash"] != GENESIS_HASH:
            return "entry 1 does not start the chain"
    else:
        if seq <= int(previous["seq"]):
            return f"entry {seq} is out of order (after entry {previous['seq']})"
        if seq == int(previous["seq"]) + 1:
            if entry["prev_hash"] != previous["entry_hash"]:
                return f"entry {seq} does not link to entry {seq - 1}"
        else:
            report.gaps.append((int(previous["seq"]), seq))
    if entry.get("withheld"):
        report.withheld += 1
    else:
        recomputed = compute_entry_hash(
            seq=seq,
            at=datetime.strptime(entry["at"], _TIME).replace(tzinfo=UTC),
            actor_name=entry["actor"],
            action=entry["action"],
            object_type=entry["object_type"],
            object_id=entry["object_id"],
            before=entry["before"],
            after=entry["after"],
            prev_hash=entry["prev_hash"],
            outcome=entry.get("outcome") or "ok",
        )
        if recomputed != entry["entry_hash"]:
            return f"entry {seq} was altered"
        report.verified += 1
    report.entries += 1
    report.last_seq = seq
    return None
