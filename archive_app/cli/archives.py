"""``archive archives create|edit|list|show|import|export-list|template``."""

from __future__ import annotations

import sys
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
from archive_app.cli.types import IsoDate
from archive_app.errors import CannotWrite
from archive_app.models import CustomerArchive
from archive_app.models.archive import CustomerType
from archive_app.models.user import Level
from archive_app.services import archives as archive_service
from archive_app.services import consents, customer_import, customer_table, handover
from archive_app.services import documents as document_service
from archive_app.services.archives import ArchiveInput


def register(cli: click.Group) -> None:
    cli.add_command(archives)


def archive_document(archive: CustomerArchive) -> dict[str, Any]:
    return {
        "number": archive.number,
        "name": archive.name,
        "customer_type": archive.customer_type.value,
        "level": archive.level.value,
        "contact": archive.contact,
        "address": archive.address,
        "business_unit": archive.business_unit,
        "industry": archive.industry,
        "region": archive.region,
        "tax_id": archive.tax_id,
        "tags": archive.tag_names,
        "notes": archive.notes,
        "relationship_end": (
            archive.relationship_end.isoformat() if archive.relationship_end else None
        ),
        "created_at": archive.created_at.isoformat(),
        "updated_at": archive.updated_at.isoformat(),
    }


def customer_options(function: Any) -> Any:
    options = [
        click.option("--type", "customer_type", type=click.Choice([t.value for t in CustomerType])),
        click.option("--level", type=click.Choice([level.value for level in Level])),
        click.option("--contact"),
        click.option("--address"),
        click.option("--business-unit"),
        click.option("--industry"),
        click.option("--region"),
        click.option("--tax-id", help="统一社会信用代码 (its check digit is verified)."),
        click.option("--tags", help="Tags separated by ';' or ',' (replaces the list)."),
        click.option("--notes"),
        click.option(
            "--relationship-end",
            help="YYYY-MM-DD: the relationship ended (starts the clock of rules kept from "
            "the relationship's end); '' clears it.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group()
def archives() -> None:
    """Customer archives (客户档案)."""


@archives.command("create")
@click.option("--name", required=True)
@customer_options
@as_option
@json_option
@pass_runtime
def create(runtime: Runtime, name: str, as_user: str | None, as_json: bool, **fields: Any) -> None:
    """Create an archive; prints its new number."""
    values = {key: value for key, value in fields.items() if value is not None}
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        archive = archive_service.create_archive(
            session,
            actor,
            ArchiveInput.from_mapping({"name": name, **values}),
            number_pattern=runtime.settings.archive_number_pattern,
            on_created=runtime.on_archive_created,
        )
        number = archive.number
    if as_json:
        print_json({"number": number})
    else:
        click.echo(number)


@archives.command("edit")
@click.argument("number")
@click.option("--name")
@customer_options
@as_option
@json_option
@pass_runtime
def edit(runtime: Runtime, number: str, as_user: str | None, as_json: bool, **fields: Any) -> None:
    """Change an archive's customer data; only the options given change."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        current = archive_service.view_archive(session, actor, number)
        values = current.snapshot()
        values.update({key: value for key, value in fields.items() if value is not None})
        archive = archive_service.update_archive(
            session, actor, number, ArchiveInput.from_mapping(values)
        )
        document = archive_document(archive)
    if as_json:
        print_json(document)
    else:
        click.echo(f"updated {document['number']}")


@archives.command("show")
@click.argument("number")
@as_option
@json_option
@pass_runtime
def show(runtime: Runtime, number: str, as_user: str | None, as_json: bool) -> None:
    """One archive's customer data."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        document = archive_document(archive_service.view_archive(session, actor, number))
    if as_json:
        print_json(document)
        return
    for key, value in document.items():
        if value:
            shown = "; ".join(value) if isinstance(value, list) else value
            click.echo(f"{key.replace('_', ' '):<14} {shown}")


def filter_options(function: Any) -> Any:
    options = [
        click.option("--query", "-q", default="", help="Filter by number or name fragment."),
        click.option("--type", "customer_type", type=click.Choice([t.value for t in CustomerType])),
        click.option("--industry", help="Only this industry (exact)."),
        click.option("--region", help="Only this region (exact)."),
        click.option("--tag", help="Only archives with this tag."),
        click.option("--level", type=click.Choice([level.value for level in Level])),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@archives.command("list")
@filter_options
@click.option(
    "--group-by",
    type=click.Choice(archive_service.GROUPS),
    help="Count archives and documents per value instead of listing them.",
)
@as_option
@json_option
@pass_runtime
def list_archives(
    runtime: Runtime,
    query: str,
    group_by: str | None,
    as_user: str | None,
    as_json: bool,
    **filters: Any,
) -> None:
    """All archives the acting user may see, with their numbers and document counts."""
    if group_by:
        _print_groups(runtime, query, group_by, as_user, as_json, filters)
        return
    rows: list[dict[str, Any]] = []
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        page_number = 1
        while True:
            page = archive_service.list_archives(
                session,
                actor,
                query=query,
                page=page_number,
                per_page=500,
                record_view=page_number == 1,
                **filters,
            )
            counts = document_service.document_counts(session, [a.id for a in page.items])
            rows.extend(
                {
                    "number": a.number,
                    "name": a.name,
                    "customer_type": a.customer_type.value,
                    "industry": a.industry,
                    "region": a.region,
                    "tags": a.tag_names,
                    "level": a.level.value,
                    "documents": counts.get(a.id, 0),
                    "created_at": a.created_at.isoformat(),
                }
                for a in page.items
            )
            if page_number >= page.pages:
                break
            page_number += 1
    if as_json:
        print_json({"total": len(rows), "archives": rows})
        return
    for row in rows:
        click.echo(
            f"{row['number']:<16} {row['level']:<13} {row['documents']:>6} documents  {row['name']}"
            + (f"  [{'; '.join(row['tags'])}]" if row["tags"] else "")
        )
    click.echo(f"{len(rows)} archives", err=True)


def _print_groups(
    runtime: Runtime,
    query: str,
    group_by: str,
    as_user: str | None,
    as_json: bool,
    filters: dict[str, Any],
) -> None:
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        conditions = archive_service.filter_conditions(actor, query=query.strip(), **filters)
        groups = archive_service.group_counts(session, actor, group_by, conditions)
    if as_json:
        print_json(
            {
                "group_by": group_by,
                "groups": [
                    {"value": g.value, "archives": g.archives, "documents": g.documents}
                    for g in groups
                ],
            }
        )
        return
    for group in groups:
        click.echo(
            f"{group.value or '(none)':<24} {group.archives:>6} archives {group.documents:>8} documents"
        )


@archives.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows, report the bad ones.")
@as_option
@json_option
@pass_runtime
def import_table(
    runtime: Runtime,
    file: Path,
    dry_run: bool,
    skip_invalid: bool,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Import the customer information table (客户信息表, CSV or XLSX).

    Rows match existing archives by tax ID, then by exact name. A file with any bad row
    is refused whole (exit 1) unless --skip-invalid."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        report = customer_import.import_customers(
            session,
            actor,
            file.read_bytes(),
            file.name,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            number_pattern=runtime.settings.archive_number_pattern,
            on_created=runtime.on_archives_created,
        )
    if as_json:
        print_json(report.as_dict())
    else:
        _print_report(report)
    if report.refused:
        sys.exit(1)


def _print_report(report: customer_import.ImportReport) -> None:
    for row in report.rows:
        if row.action == customer_import.INVALID:
            reasons = "; ".join(f"{key}: {text}" for key, text in row.problems.items())
            click.echo(f"line {row.line}: {row.name or '(no name)'}: {reasons}", err=True)
        elif row.action != customer_import.UNCHANGED:
            parts = [row.action, row.number or "", row.name]
            click.echo(f"line {row.line}: " + " ".join(part for part in parts if part))
    counts = report.summary()
    click.echo(
        f"{counts['create']} to create, {counts['update']} to update, "
        f"{counts['unchanged']} unchanged, {counts['invalid']} bad rows"
        + (" (dry run: nothing written)" if report.dry_run else ""),
        err=True,
    )
    if report.refused:
        click.echo("archive: nothing imported: fix the bad rows or give --skip-invalid", err=True)


@archives.command("export-list")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="FILE.csv or FILE.xlsx"
)
@filter_options
@as_option
@json_option
@pass_runtime
def export_list(
    runtime: Runtime, output: str, query: str, as_user: str | None, as_json: bool, **filters: Any
) -> None:
    """Write the archive list (the customer information table) to CSV or XLSX."""
    fmt = customer_table.format_of(output)
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        data = customer_import.export_list(session, actor, fmt, {"query": query.strip(), **filters})
    with output_file(output) as out:
        out.write(data)
    if as_json:
        print_json({"file": output, "format": fmt, "bytes": len(data)})
    else:
        click.echo(output)


@archives.command("template")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="FILE.csv or FILE.xlsx"
)
@json_option
def template(output: str, as_json: bool) -> None:
    """Write an empty customer information table (one example row) to fill in."""
    fmt = customer_table.format_of(output)
    data = customer_table.template(fmt)
    with output_file(output) as out:
        out.write(data)
    if as_json:
        print_json({"file": output, "format": fmt, "bytes": len(data)})
    else:
        click.echo(output)


@archives.command("export")
@click.argument("number")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The package to write (FILE.zip).",
)
@as_option
@json_option
@pass_runtime
def export_archive(
    runtime: Runtime, number: str, output: Path, as_user: str | None, as_json: bool
) -> None:
    """Export an archive for handover (移交): originals, searchable PDFs, the checklist as
    PDF and CSV, the audit entries and a manifest with every file's SHA-256."""
    if not output.parent.is_dir():
        raise CannotWrite(output, "no such folder")
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        summary = handover.export_archive(runtime.container, session, actor, number, output)
    if as_json:
        print_json({"file": str(output), **summary.as_dict()})
    else:
        click.echo(
            f"{output}: {summary.documents} documents ({summary.destroyed} destroyed, as stubs), "
            f"{summary.files} files, {summary.audit_entries} audit entries"
        )


@archives.command("verify-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def verify_export(file: Path, as_json: bool) -> None:
    """Check a handover package against its manifest (offline: no database needed)."""
    check = handover.verify_package(file)
    if as_json:
        print_json(check.as_dict())
    else:
        click.echo(f"{file}: {check.files} files match the manifest of {check.archive}")


@archives.group("consent")
def consent() -> None:
    """Consent records for the customer's personal data."""


@consent.command("add")
@click.argument("number")
@click.option("--purpose", required=True, help="What the data may be used for.")
@click.option("--scope", default="", help="Which data, how far.")
@click.option("--date", "given_on", type=IsoDate(), required=True, help="Given on YYYY-MM-DD.")
@click.option("--channel", required=True, help="How it was given (书面, 线上, 电话 ...).")
@as_option
@json_option
@pass_runtime
def consent_add(
    runtime: Runtime,
    number: str,
    purpose: str,
    scope: str,
    given_on: date,
    channel: str,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Record a consent given by the archive's customer; prints its id."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        record = consents.record_consent(
            session, actor, number, purpose=purpose, scope=scope, given_on=given_on, channel=channel
        )
        document = consents.as_dict(record)
    if as_json:
        print_json(document)
    else:
        click.echo(document["id"])


@consent.command("withdraw")
@click.argument("number")
@click.argument("consent_id", type=int)
@click.option("--date", "withdrawn_on", type=IsoDate(), required=True)
@click.option("--channel", required=True, help="How it was withdrawn.")
@as_option
@json_option
@pass_runtime
def consent_withdraw(
    runtime: Runtime,
    number: str,
    consent_id: int,
    withdrawn_on: date,
    channel: str,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Record the withdrawal of a consent."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        record = consents.withdraw_consent(
            session, actor, number, consent_id, withdrawn_on=withdrawn_on, channel=channel
        )
        document = consents.as_dict(record)
    if as_json:
        print_json(document)
    else:
        click.echo(f"consent {consent_id} withdrawn on {withdrawn_on.isoformat()}")


@consent.command("list")
@click.argument("number")
@as_option
@json_option
@pass_runtime
def consent_list(runtime: Runtime, number: str, as_user: str | None, as_json: bool) -> None:
    """The archive's consent records, oldest first."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        rows = [consents.as_dict(c) for c in consents.list_consents(session, actor, number)]
    if as_json:
        print_json({"archive": number, "consents": rows})
        return
    for row in rows:
        state = f"withdrawn {row['withdrawn_on']}" if row["withdrawn_on"] else "in force"
        click.echo(f"{row['id']:>4}  {row['given_on']}  {state:<20} {row['purpose']}")
