"""``archive checklist``, ``archive location`` and ``archive version``.

``archive checklist ARCHIVE [--json]`` lists an archive's lines (a shorthand for
``archive checklist list ARCHIVE``); ``submit``, ``confirm`` (one or many documents, the
bulk confirmation) and ``reject`` move lines through review; ``print`` writes the
checklist or cover sheet PDF. The filer can never confirm their own line: the service
refuses it and the command exits 1 with the reason.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archive_app.cli.runtime import (
    Runtime,
    as_option,
    json_option,
    output_file,
    pass_runtime,
    print_json,
)
from archive_app.models import ChecklistState
from archive_app.services import checklist, locations, printing, versions
from archive_app.services.locations import format_location
from archive_app.services.reading_checks import reading_warnings


def register(cli: click.Group) -> None:
    cli.add_command(checklist_group)
    cli.add_command(location_group)
    cli.add_command(version_group)


class _ListByDefault(click.Group):
    """``archive checklist KH-000001`` means ``archive checklist list KH-000001``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group("checklist", cls=_ListByDefault)
def checklist_group() -> None:
    """The filing checklist (归档清单): list, submit, confirm, reject, print."""


@checklist_group.command("list")
@click.argument("archive_number", metavar="ARCHIVE")
@click.option("--location", default="", help="Only lines whose paper location contains this.")
@click.option("--unlocated", is_flag=True, help="Only lines without a paper location.")
@click.option("--state", type=click.Choice([state.value for state in ChecklistState]), default=None)
@as_option
@json_option
@pass_runtime
def list_lines(
    runtime: Runtime,
    archive_number: str,
    location: str,
    unlocated: bool,
    state: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """The checklist lines of one archive."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        archive, views = checklist.list_lines(
            session, actor, archive_number, location=location, unlocated=unlocated, state=state
        )
        rows = [
            {
                **checklist.line_as_dict(view),
                "warnings": [
                    w.as_dict() for w in reading_warnings(runtime.container, view.document)
                ],
            }
            for view in views
        ]
        result = {"archive": archive.number, "name": archive.name, "lines": rows}
    if as_json:
        print_json(result)
        return
    click.echo(f"{result['archive']}  {result['name']}  ({len(rows)} lines)")
    for row in rows:
        reviewer = f"  reviewed by {row['reviewer']}" if row["state"] == "filed" else ""
        click.echo(
            f"{row['document']:<28} {row['state']:<16} {row['class']:<9} "
            f"{row['pages']:>3}p  {format_location(row['paper_location']) or '-':<24} "
            f"filer {row['filer']}{reviewer}"
        )
        if row["rejection_reason"]:
            click.echo(f"{'':<28} rejected: {row['rejection_reason']}")
        for problem in row["missing"]:
            click.echo(f"{'':<28} missing: {problem['field']}: {problem['message']}")
        for warning in row["warnings"]:
            click.echo(f"{'':<28} warning: {warning['message']}")


@checklist_group.command("submit")
@click.argument("number", metavar="DOCUMENT")
@as_option
@json_option
@pass_runtime
def submit(runtime: Runtime, number: str, as_user: str | None, as_json: bool) -> None:
    """Send a draft line to review (refused, with what is missing, until it is complete)."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        line = checklist.submit(session, actor, number)
        result = checklist.line_as_dict(line)
    if as_json:
        print_json(result)
    else:
        click.echo(f"{number} is awaiting review")


@checklist_group.command("confirm")
@click.argument("numbers", nargs=-1, required=True, metavar="DOCUMENT...")
@as_option
@json_option
@pass_runtime
def confirm(runtime: Runtime, numbers: tuple[str, ...], as_user: str | None, as_json: bool) -> None:
    """Confirm lines awaiting review (the reviewer's step); the record is declared."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        if len(numbers) == 1:
            checklist.confirm(session, actor, numbers[0])
            outcome = checklist.BulkOutcome([numbers[0]], {})
        else:
            outcome = checklist.confirm_many(session, actor, numbers)
    if as_json:
        print_json(outcome.as_dict())
    else:
        for number in outcome.confirmed:
            click.echo(f"{number} confirmed and filed")
    for number, reason in outcome.refused.items():
        click.echo(f"archive: {number} not confirmed: {reason}", err=True)
    if outcome.refused:
        sys.exit(1)


@checklist_group.command("reject")
@click.argument("number", metavar="DOCUMENT")
@click.option("--reason", required=True, help="What the archivist has to fix.")
@as_option
@json_option
@pass_runtime
def reject(runtime: Runtime, number: str, reason: str, as_user: str | None, as_json: bool) -> None:
    """Send a line back to its archivist with the reason."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        result = checklist.line_as_dict(checklist.reject(session, actor, number, reason))
    if as_json:
        print_json(result)
    else:
        click.echo(f"{number} sent back to draft")


@checklist_group.command("print")
@click.argument("archive_number", metavar="ARCHIVE")
@click.option("--cover", is_flag=True, help="The cover sheet instead of the checklist.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@as_option
@json_option
@pass_runtime
def print_pdf(
    runtime: Runtime,
    archive_number: str,
    cover: bool,
    output: str,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Write the printable checklist (or cover sheet) as a PDF."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        archive, lines = checklist.for_print(
            session, actor, archive_number, "cover" if cover else "checklist"
        )
        if cover:
            filed = sum(1 for line in lines if line.state == ChecklistState.FILED)
            data = printing.cover_pdf(archive, documents=len(lines), filed=filed)
        else:
            data = printing.checklist_pdf(archive, lines, printed_by=actor.username)
    with output_file(output) as out:
        out.write(data)
    if as_json:
        print_json(
            {
                "archive": archive_number,
                "kind": "cover" if cover else "checklist",
                "file": output,
                "bytes": len(data),
            }
        )
    else:
        click.echo(f"wrote {len(data)} bytes to {output}", err=True)


@click.group("location")
def location_group() -> None:
    """Where the paper original is: set it, see its history."""


@location_group.command("set")
@click.argument("number", metavar="DOCUMENT")
@click.option("--room", default="")
@click.option("--shelf", default="")
@click.option("--box", default="")
@click.option("--position", default="", help="Folder position in the box.")
@click.option("--note", default="")
@as_option
@json_option
@pass_runtime
def set_location(
    runtime: Runtime,
    number: str,
    room: str,
    shelf: str,
    box: str,
    position: str,
    note: str,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Record where the paper original is now (every move is kept)."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        move = locations.set_location(
            session, actor, number, room=room, shelf=shelf, box=box, position=position, note=note
        )
        location = move.to_location if move else None
    if as_json:
        print_json({"document": number, "changed": move is not None, "location": location})
    else:
        click.echo(f"{number}: {format_location(location)}" if move else f"{number}: unchanged")


@location_group.command("history")
@click.argument("number", metavar="DOCUMENT")
@as_option
@json_option
@pass_runtime
def location_history(runtime: Runtime, number: str, as_user: str | None, as_json: bool) -> None:
    """Every move of the paper original, oldest first."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        rows = [
            {
                "at": move.moved_at.isoformat(),
                "by": move.moved_by.username,
                "from": move.from_location,
                "to": move.to_location,
                "note": move.note,
            }
            for move in locations.history(session, actor, number)
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        click.echo(
            f"{row['at'][:16]}  {row['by']:<12} {format_location(row['from']) or '-'} → "
            f"{format_location(row['to']) or '-'}  {row['note']}"
        )


@click.group("version")
def version_group() -> None:
    """Versions of a record: add a corrected scan, list versions."""


@version_group.command("add")
@click.argument("number", metavar="DOCUMENT")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--reason", default="", help="Why the record needs a new version.")
@as_option
@json_option
@pass_runtime
def add_version(
    runtime: Runtime, number: str, path: str, reason: str, as_user: str | None, as_json: bool
) -> None:
    """Store a corrected scan as the next version (the line must be reviewed again)."""
    with runtime.session() as session:
        actor_id = runtime.actor(session, as_user).id
    version = versions.add_version(
        runtime.container, actor_id, number, Path(path), Path(path).name, reason=reason
    )
    if as_json:
        print_json({"document": number, "version": version, "status": "queued"})
    else:
        click.echo(f"{number}: version {version} queued for extraction")


@version_group.command("list")
@click.argument("number", metavar="DOCUMENT")
@as_option
@json_option
@pass_runtime
def list_versions(runtime: Runtime, number: str, as_user: str | None, as_json: bool) -> None:
    """Every version of a record, newest first."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        rows = [
            {
                "version": row.version,
                "file": row.original_filename,
                "sha256": row.sha256,
                "created_by": row.created_by.username,
                "created_at": row.created_at.isoformat(),
                "confirmed_by": row.confirmed_by.username if row.confirmed_by else None,
                "reason": row.reason,
            }
            for row in versions.list_versions(session, actor, number)
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        click.echo(
            f"v{row['version']:<3} {row['created_at'][:16]}  {row['created_by']:<12} "
            f"{row['file']}  {row['sha256']}"
        )
