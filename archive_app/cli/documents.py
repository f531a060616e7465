"""``archive import|show|edit|export|retry`` and ``archive worker``."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from archive_app.cli.runtime import (
    Runtime,
    as_option,
    json_option,
    output_file,
    pass_runtime,
    print_json,
)
from archive_app.cli.types import ASSIGNMENT
from archive_app.infra import workers
from archive_app.infra.container import Container
from archive_app.models import Document
from archive_app.services import documents as document_service
from archive_app.services.intake import IntakeItem, IntakeResult, take_in
from archive_app.services.reading_checks import reading_warnings
from archive_app.services.retention.state import retention_state

# --wait looks at the documents' states this often: a coarse interval left the command idle
# for up to a second after the last document was ready.
WAIT_POLL_SECONDS = 0.2


def register(cli: click.Group) -> None:
    for command in (import_files, show, edit, export, retry, worker):
        cli.add_command(command)


def _collect(paths: tuple[str, ...]) -> list[IntakeItem]:
    items: list[IntakeItem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            items.extend(
                IntakeItem(path=file, filename=file.name)
                for file in sorted(path.rglob("*"))
                if file.is_file() and not file.name.startswith(".")
            )
        elif path.is_file():
            items.append(IntakeItem(path=path, filename=path.name))
        else:
            raise click.BadParameter(f"{raw}: no such file or folder", param_hint="PATH")
    return items


def document_document(document: Document) -> dict[str, Any]:
    return {
        "document": document.number,
        "archive": document.archive.number,
        "class": document.document_class.code,
        "class_version": document.class_version,
        "title": document.title,
        "status": document.status.value,
        "error": document.failure_reason,
        "file": document.original_filename,
        "mime_type": document.mime_type,
        "size": document.size_bytes,
        "pages": document.page_count,
        "sha256": document.sha256,
        "method": document.extraction_method,
        "confidence": document.ocr_confidence,
        "document_date": document.document_date.isoformat() if document.document_date else None,
        "amount": str(document.amount) if document.amount is not None else None,
        "fields": document.fields,
        "unreadable_pages": document.unreadable_pages,
        "created_at": document.created_at.isoformat(),
        "declared_at": document.declared_at.isoformat() if document.declared_at else None,
        "version": document.version,
        "checklist": _checklist_document(document),
    }


def _checklist_document(document: Document) -> dict[str, Any] | None:
    line = document.checklist_line
    if line is None:
        return None
    location = [line.paper_room, line.paper_shelf, line.paper_box, line.paper_position]
    return {
        "state": line.state.value,
        "responsible": line.filer.username,
        "reviewer": line.reviewer.username if line.reviewer else None,
        "reviewed_at": line.reviewed_at.isoformat() if line.reviewed_at else None,
        "rejection_reason": line.rejection_reason,
        "paper_location": " / ".join(part for part in location if part) or None,
    }


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--archive", "archive_number", required=True, metavar="NUMBER")
@click.option("--class", "class_code", metavar="CODE", help="Document class for every file.")
@click.option(
    "--wait",
    is_flag=True,
    help="Block until extraction has finished for every file (done here when no "
    "background worker is running).",
)
@as_option
@json_option
@pass_runtime
def import_files(
    runtime: Runtime,
    paths: tuple[str, ...],
    archive_number: str,
    class_code: str | None,
    wait: bool,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Import files and folders (recursively) into an archive."""
    items = _collect(paths)
    container = runtime.container
    with runtime.session() as session:
        actor_id = runtime.actor(session, as_user).id
    console = Console(stderr=True)
    results: list[IntakeResult] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=as_json,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("storing", total=len(items))

        def on_file(result: IntakeResult) -> None:
            results.append(result)
            progress.advance(task)
            if not as_json:
                line = f"{result.status:<9} {result.file}" + (
                    f" → {result.document}" if result.document else ""
                )
                if result.error:
                    line += f"  ({result.error})"
                console.print(line, markup=False, highlight=False)

        take_in(
            container, actor_id, archive_number, items, default_class=class_code, on_file=on_file
        )
        queued = [r.document_id for r in results if r.status == "queued" and r.document_id]
        if wait:
            final = _wait_for(container, queued, progress, console)
            results = [
                replace(r, status=final[r.document_id][0], error=final[r.document_id][1])
                if r.status == "queued" and r.document_id in final
                else r
                for r in results
            ]
        elif queued and not _background_worker_running(runtime):
            console.print(NO_WORKER_HINT, markup=False, highlight=False)
    if as_json:
        print_json([r.as_dict() for r in results])
    failed = [r for r in results if r.status in ("rejected", "failed")]
    if failed and not as_json:
        console.print(f"{len(failed)} of {len(results)} files were not filed", markup=False)
    if failed:
        sys.exit(1)


NO_WORKER_HINT = (
    "no background worker is running: the files wait in the queue until one runs "
    "(`archive worker`, or `archive serve`, which starts one)"
)


def _background_worker_running(runtime: Runtime) -> bool:
    with runtime.session() as session:
        return workers.any_background_worker(session)


def _wait_for(
    container: Container, document_ids: list[int], progress: Progress, console: Console
) -> dict[int, tuple[str, str | None]]:
    """Final (status, error) per document; extracts here when no worker would."""
    # Imported here: it brings in the extraction engine, which other commands do not need.
    from archive_app.services.completion import wait_until_processed

    waiting = progress.add_task("extracting", total=len(document_ids))
    pages = progress.add_task("", total=None, visible=False)

    def on_inline() -> None:
        console.print(
            "no background worker is running: extracting here", markup=False, highlight=False
        )

    def on_page(number: str, done: int, total: int) -> None:
        progress.update(pages, description=number, completed=done, total=total, visible=True)

    return wait_until_processed(
        container,
        document_ids,
        on_done=lambda done, _total: progress.update(waiting, completed=done),
        on_inline=on_inline,
        on_page=on_page,
        poll=WAIT_POLL_SECONDS,
    )


@click.command()
@click.argument("number")
@click.option("--text", "with_text", is_flag=True, help="Include the extracted text.")
@as_option
@json_option
@pass_runtime
def show(
    runtime: Runtime, number: str, with_text: bool, as_user: str | None, as_json: bool
) -> None:
    """A document's metadata, status and (with --text) its extracted text."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        document = document_service.view_document(session, actor, number)
        result = document_document(document)
        result["retention"] = retention_state(session, document)
        reading = document_service.read_reading(runtime.container, session, actor, number)
        result["suggestions"] = reading.suggestions
        result["pdfa"] = reading.pdfa
        result["page_readings"] = [
            {key: page.get(key) for key in ("number", "method", "engine", "confidence", "rotation")}
            for page in reading.pages
        ]
        result["warnings"] = [w.as_dict() for w in reading_warnings(runtime.container, document)]
        if with_text:
            result["text"] = "\n\f".join(page["text"] for page in reading.pages)
    if as_json:
        print_json(result)
        return
    destroyed = result["retention"].get("destroyed")
    if destroyed:
        click.echo(
            f"DESTROYED      {destroyed['destroyed_at']} (batch {destroyed.get('batch')}, "
            f"certificate {destroyed.get('certificate')}); only this stub remains"
        )
    for key in (
        "document",
        "archive",
        "class",
        "title",
        "status",
        "error",
        "file",
        "pages",
        "method",
        "document_date",
        "amount",
        "sha256",
    ):
        if result.get(key) not in (None, ""):
            click.echo(f"{key.replace('_', ' '):<14} {result[key]}")
    checklist = result["checklist"]
    if checklist:
        reviewed = f" by {checklist['reviewer']}" if checklist["reviewer"] else ""
        click.echo(f"{'checklist':<14} {checklist['state']}{reviewed}")
        click.echo(f"{'paper':<14} {checklist['paper_location'] or 'not located'}")
    for name, value in result["fields"].items():
        click.echo(f"{name.replace('_', ' '):<14} {value}")
    for name, entry in (result["suggestions"].get("fields") or {}).items():
        if name not in result["fields"]:
            click.echo(f"{'suggested':<14} {name} = {entry['value']}")
    for page in result["page_readings"]:
        if page["method"] == "ocr":
            click.echo(
                f"{'page ' + str(page['number']):<14} {page['engine']} {page['confidence']}%"
            )
    for warning in result["warnings"]:
        click.echo(f"{'warning':<14} {warning['message']}")
    if with_text:
        click.echo("")
        click.echo(result["text"])


@click.command()
@click.argument("number")
@click.option("--class", "class_code", metavar="CODE")
@click.option("--title")
@click.option("--set", "assignments", multiple=True, type=ASSIGNMENT)
@click.option(
    "--accept-suggestions",
    is_flag=True,
    help="Take every suggestion from the text for what is still empty.",
)
@click.option(
    "--accept",
    "accept",
    multiple=True,
    metavar="NAME",
    help="Take the suggestion for NAME (a field, title or class) as it is.",
)
@as_option
@json_option
@pass_runtime
def edit(
    runtime: Runtime,
    number: str,
    class_code: str | None,
    title: str | None,
    assignments: tuple[tuple[str, str], ...],
    accept_suggestions: bool,
    accept: tuple[str, ...],
    as_user: str | None,
    as_json: bool,
) -> None:
    """Change a document's class, title and metadata fields. A class change keeps the
    fields both classes share; suggestions from the text count only once accepted."""
    values = dict(assignments)
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        document = document_service.edit_document(
            session,
            actor,
            number,
            class_code=class_code,
            title=title,
            values=values,
            accept_suggestions=accept_suggestions,
            accept=accept,
            container=runtime.container,
        )
        result = document_document(document)
    if as_json:
        print_json(result)
    else:
        click.echo(f"updated {result['document']}")


@click.command()
@click.argument("number")
@click.option("--original", is_flag=True, help="The original file, byte for byte.")
@click.option("--pdf", is_flag=True, help="The searchable PDF rendition.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@as_option
@json_option
@pass_runtime
def export(
    runtime: Runtime,
    number: str,
    original: bool,
    pdf: bool,
    output: str,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Decrypt a document's original (--original) or searchable PDF (--pdf) to a file."""
    if original == pdf:
        raise click.UsageError("choose one of --original or --pdf")
    kind = "original" if original else "pdf"
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        handle = document_service.prepare_export(session, actor, number, kind)
    with output_file(output) as out:
        size = document_service.export_to(runtime.container, handle, out)
    if as_json:
        print_json({"document": number, "kind": kind, "file": output, "bytes": size})
    else:
        click.echo(f"wrote {size} bytes to {output}", err=True)


@click.command()
@click.argument("number")
@click.option("--force", is_flag=True, help="Also re-queue a document stuck in processing.")
@as_option
@json_option
@pass_runtime
def retry(runtime: Runtime, number: str, force: bool, as_user: str | None, as_json: bool) -> None:
    """Queue a failed document for extraction again."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        document = document_service.retry_document(
            runtime.container, session, actor, number, force=force
        )
        document_id = document.id
    runtime.container.enqueue_processing(document_id)
    if as_json:
        print_json({"document": number, "status": "queued"})
    else:
        click.echo(f"queued {number}")


@click.command()
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Documents processed at once (each uses ARCHIVE_OCR_WORKERS OCR processes).",
)
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--beat", is_flag=True, help="Also run the periodic tasks (one worker only).")
# Set by ``archive serve`` for its embedded worker: stop when that process is gone.
@click.option("--parent", type=int, hidden=True)
@pass_runtime
def worker(
    runtime: Runtime, concurrency: int, loglevel: str, beat: bool, parent: int | None
) -> None:
    """Run a background worker (OCR, indexing) against the configured broker."""
    from archive_app.tasks.worker import run_worker

    runtime.container.open_store()
    runtime.container.open_engines()  # a missing OCR engine stops the worker here, in one line
    run_worker(
        runtime.container, concurrency=concurrency, loglevel=loglevel, beat=beat, parent=parent
    )
