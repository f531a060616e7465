"""``archive archives create|edit|list|show``."""

from __future__ import annotations

from typing import Any

import click

from archive_app.cli.runtime import Runtime, as_option, json_option, pass_runtime, print_json
from archive_app.models import CustomerArchive
from archive_app.models.archive import CustomerType
from archive_app.models.user import Level
from archive_app.services import archives as archive_service
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
        "tax_id": archive.tax_id,
        "notes": archive.notes,
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
        click.option("--tax-id"),
        click.option("--notes"),
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
            click.echo(f"{key.replace('_', ' '):<14} {value}")


@archives.command("list")
@click.option("--query", "-q", default="", help="Filter by number or name fragment.")
@as_option
@json_option
@pass_runtime
def list_archives(runtime: Runtime, query: str, as_user: str | None, as_json: bool) -> None:
    """All archives the acting user may see, with their numbers and document counts."""
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
            )
            counts = document_service.document_counts(session, [a.id for a in page.items])
            rows.extend(
                {
                    "number": a.number,
                    "name": a.name,
                    "customer_type": a.customer_type.value,
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
        )
    click.echo(f"{len(rows)} archives", err=True)
