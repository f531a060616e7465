"""``archive audit verify|checkpoint|verify-checkpoint|list|export|verify-export``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from archive_app.cli.runtime import (
    Runtime,
    as_option,
    json_option,
    output_file,
    pass_runtime,
    print_json,
)
from archive_app.cli.types import DATE
from archive_app.errors import (
    AuditChainBroken,
    AuditExportBroken,
    NotInitialised,
    ValidationFailed,
)
from archive_app.models.audit import OUTCOMES
from archive_app.services import audit_query
from archive_app.services.audit_checkpoints import (
    Checkpoint,
    CheckpointInvalid,
    check_trail,
    read_checkpoint,
    write_checkpoint,
)
from archive_app.services.audit_export import FORMATS, verify_export
from archive_app.services.audit_query import DEFAULT_LIMIT, MAX_LIMIT, AuditFilter
from archive_app.services.retention.certificate_files import instance_public_key

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def register(cli: click.Group) -> None:
    cli.add_command(audit)


@click.group()
def audit() -> None:
    """The tamper-evident audit trail."""


def _public_key(runtime: Runtime, given: Path | None) -> bytes:
    if given is not None:
        return given.read_bytes()
    key = instance_public_key(runtime.settings)
    if key is None:
        raise NotInitialised(f"no instance signing key in {runtime.settings.home}")
    return key


def _read(path: Path, public_key: bytes) -> Checkpoint:
    try:
        return read_checkpoint(path.read_bytes(), public_key, path)
    except CheckpointInvalid as error:
        raise ValidationFailed({str(path): error.reason}) from None


@audit.command("verify")
@click.option(
    "--checkpoint",
    "extra",
    multiple=True,
    type=_FILE,
    help="Also check against this exported checkpoint (repeatable).",
)
@as_option
@json_option
@pass_runtime
def verify(runtime: Runtime, extra: tuple[Path, ...], as_user: str | None, as_json: bool) -> None:
    """Check the hash chain and the signed checkpoints; exit 1 and name the first broken
    link, a truncated tail or a forged checkpoint.

    Auditors, compliance and admin users (--as); the check adds nothing to the trail."""
    marks = [_read(path, _public_key(runtime, None)) for path in extra]
    with runtime.session() as session:
        report = check_trail(
            runtime.settings, session, runtime.actor(session, as_user), extra=marks
        )
    if as_json:
        print_json(report.as_dict())
        if not report.ok:
            raise SystemExit(1)
        return
    if not report.chain.ok:
        raise AuditChainBroken(report.chain.broken_at, report.chain.problem or "")
    if report.problems:
        raise AuditChainBroken(None, "; ".join(report.problems))
    signed = (
        f", up to the checkpoint signed {report.checkpoint.signed_at:%Y-%m-%d %H:%M} UTC "
        f"(entry {report.checkpoint.seq})"
        if report.checkpoint
        else ", no signed checkpoint yet"
    )
    click.echo(f"audit trail intact: {report.chain.entries} entries verified{signed}")


@audit.command("checkpoint")
@click.option(
    "--export",
    "export_to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a copy here, to keep away from the instance.",
)
@json_option
@pass_runtime
def checkpoint(runtime: Runtime, export_to: Path | None, as_json: bool) -> None:
    """Sign the current head of the trail now (the worker also does this every hour)."""
    signed = write_checkpoint(runtime.settings, runtime.database)
    if signed is None:
        raise ValidationFailed({"trail": "the audit trail is empty; nothing to sign"})
    if export_to is not None:
        assert signed.path is not None
        try:
            export_to.write_bytes(signed.path.read_bytes())
        except OSError as error:
            raise ValidationFailed(
                {"--export": f"cannot write {export_to}: {error.strerror}"}
            ) from None
    if as_json:
        print_json({**signed.as_dict(), "exported": str(export_to) if export_to else None})
    else:
        click.echo(f"signed entry {signed.seq} ({signed.entry_hash[:16]}…) in {signed.path}")


@audit.command("verify-checkpoint")
@click.argument("path", type=_FILE)
@click.option(
    "--public-key",
    type=_FILE,
    help="The signer's public key (PEM). Default: the instance's key.",
)
@json_option
@pass_runtime
def verify_checkpoint(runtime: Runtime, path: Path, public_key: Path | None, as_json: bool) -> None:
    """Check an exported checkpoint's signature offline (no database needed)."""
    signed = _read(path, _public_key(runtime, public_key))
    if as_json:
        print_json({"valid": True, **signed.as_dict()})
    else:
        click.echo(
            f"valid checkpoint: entry {signed.seq} ({signed.entry_hash}) "
            f"signed {signed.signed_at:%Y-%m-%d %H:%M} UTC"
        )


# --- reading the trail ------------------------------------------------------------------------


def _filter_options(function: Any) -> Any:
    for option in reversed(
        [
            click.option("--actor", metavar="USER", help="Entries by this user."),
            click.option(
                "--action", metavar="ACTION", help="This action, or a prefix ending in '*'."
            ),
            click.option(
                "--object",
                "object_",
                metavar="X",
                help="TYPE:ID, a TYPE (archive, document, batch, user) or an ID.",
            ),
            click.option("--outcome", type=click.Choice(OUTCOMES), help="ok, refused or failed."),
            click.option("--since", type=DATE, help="From this day (UTC, included)."),
            click.option("--until", type=DATE, help="Up to this day (UTC, included)."),
        ]
    ):
        function = option(function)
    return function


def _filters(
    actor: str | None,
    action: str | None,
    object_: str | None,
    outcome: str | None,
    since: date | None,
    until: date | None,
) -> AuditFilter:
    object_type, object_id = AuditFilter.parse_object(object_)
    try:
        return AuditFilter.parse(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            outcome=outcome,
            since=since,
            until=until,
        )
    except ValidationFailed as error:
        # Filters that cannot hold together are a usage error, found before anything runs.
        raise click.UsageError(str(error)) from None


@audit.command("list")
@_filter_options
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many entries.",
)
@click.option("--before", type=click.IntRange(min=1), help="Entries older than this one.")
@as_option
@json_option
@pass_runtime
def list_command(
    runtime: Runtime,
    actor: str | None,
    action: str | None,
    object_: str | None,
    outcome: str | None,
    since: date | None,
    until: date | None,
    limit: int,
    before: int | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """The trail, newest first, filtered. Auditors, compliance and admins (--as); the
    listing is itself recorded (one entry, with the filters)."""
    filters = _filters(actor, action, object_, outcome, since, until)
    with runtime.session() as session:
        reader = runtime.actor(session, as_user)
        audit_query.require_reader(reader)
        page = audit_query.list_entries(session, reader, filters, before=before, limit=limit)
        result = page.as_dict()
    if as_json:
        print_json(result)
        return
    for entry in page.entries:
        values = "(withheld: above your clearance)" if entry.withheld else _changes(entry)
        click.echo(
            f"{entry.seq:>8}  {entry.at:%Y-%m-%d %H:%M:%S}  {entry.actor:<12} "
            f"{entry.action:<28} {entry.object_type}:{entry.object_id}  "
            f"{entry.outcome}  {values}".rstrip()
        )
    if page.next_before is not None:
        click.echo(f"more: --before {page.next_before}")


def _changes(entry: audit_query.EntryView) -> str:
    parts = []
    for change in entry.changes:
        if change.before is None:
            parts.append(f"{change.field}={change.after}")
        elif change.after is None:
            parts.append(f"{change.field}: {change.before} → (none)")
        else:
            parts.append(f"{change.field}: {change.before} → {change.after}")
    return "; ".join(parts)


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@_filter_options
@as_option
@json_option
@pass_runtime
def export_command(
    runtime: Runtime,
    fmt: str,
    output: Path,
    actor: str | None,
    action: str | None,
    object_: str | None,
    outcome: str | None,
    since: date | None,
    until: date | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Write the filtered trail, oldest first, as CSV or JSON Lines with every field the
    hash chain covers (check a JSONL copy with `archive audit verify-export FILE`)."""
    filters = _filters(actor, action, object_, outcome, since, until)
    with runtime.session() as session:
        reader = runtime.actor(session, as_user)
        audit_query.require_reader(reader)
        with output_file(output) as out:
            count = audit_query.export_entries(session, reader, filters, fmt, out)
    result = {"file": str(output), "format": fmt, "entries": count, **filters.as_dict()}
    if as_json:
        print_json(result)
    else:
        click.echo(f"{count} {'entry' if count == 1 else 'entries'} written to {output}")


@audit.command("verify-export")
@click.argument("path", type=_FILE)
@json_option
def verify_export_command(path: Path, as_json: bool) -> None:
    """Recompute the hashes and links of an exported trail (JSON Lines or CSV) offline,
    without a database; exit 1 and name the first line that does not verify."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationFailed({str(path): f"cannot read it ({error})"}) from None
    report = verify_export(text)
    if as_json:
        print_json({"file": str(path), **report.as_dict()})
        if not report.ok:
            raise SystemExit(1)
        return
    if not report.ok:
        raise AuditExportBroken(path, report.broken_line, report.problem or "")
    withheld = f", {report.withheld} withheld (links checked only)" if report.withheld else ""
    gaps = f", {len(report.gaps)} gaps left by the filters" if report.gaps else ""
    click.echo(
        f"export intact: {report.entries} entries (seq {report.first_seq}-{report.last_seq}), "
        f"{report.verified} hashes recomputed{withheld}{gaps}"
    )
