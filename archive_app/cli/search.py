"""``archive search``, ``archive reindex`` and ``archive index check``.

``search`` prints result cards on the terminal or, with ``--json``, the document
``{"total", "total_exact", "hits": [{"document", "archive", "title", "class", "snippet",
"score"}], "facets", "ranked_window"}`` (``total_exact`` false: more than ``total`` match,
counting stopped at ``ARCHIVE_SEARCH_TOTAL_CAP``, and the facet counts are lower bounds) (``snippet`` is HTML: escaped text with ``<mark>`` around matched words).
``reindex`` and ``index check`` call the maintenance functions of
:mod:`archive_app.search.maintenance` with a progress bar on the terminal.
"""

from __future__ import annotations

import html
import re
import sys
from datetime import date

import click
from rich.console import Console
from rich.text import Text

from archive_app.cli.runtime import (
    Runtime,
    as_option,
    json_option,
    pass_runtime,
    print_json,
    progress_bar,
)
from archive_app.cli.types import AMOUNT, DATE
from archive_app.search import maintenance as search_maintenance
from archive_app.search import queries as search_service
from archive_app.search.queries import SearchParams
from archive_app.services import audit, saved_searches

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def register(cli: click.Group) -> None:
    cli.add_command(search)
    cli.add_command(reindex)
    cli.add_command(index)


@click.command()
@click.argument("query", required=False)
@click.option("--saved", "saved_name", metavar="NAME", help="Run a saved search (yours or shared).")
@click.option("--archive", "archive_number", metavar="NUMBER", help="Only this archive.")
@click.option("--class", "class_code", metavar="CODE", help="Only this document class.")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="Only documents with this tag (repeatable: all of them).",
)
@click.option("--state", type=click.Choice(search_service.STATES), help="Filing state.")
@click.option("--from", "date_from", type=DATE, help="Document date on or after.")
@click.option("--to", "date_to", type=DATE, help="Document date on or before.")
@click.option("--min-amount", "amount_min", type=AMOUNT)
@click.option("--max-amount", "amount_max", type=AMOUNT)
@click.option("--sort", type=click.Choice(search_service.SORTS), help="[default: relevance]")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100))
@click.option("--page", default=1, show_default=True, type=click.IntRange(1, 10_000))
@as_option
@json_option
@pass_runtime
def search(
    runtime: Runtime,
    query: str | None,
    saved_name: str | None,
    limit: int,
    page: int,
    as_user: str | None,
    as_json: bool,
    **filters: object,
) -> None:
    """Full-text search in Chinese and English over what the user may see.

    With --saved NAME, the saved search runs (with the runner's clearance); a QUERY or
    filters given as well replace the saved ones."""
    if query is None and saved_name is None:
        raise click.UsageError("give a QUERY or --saved NAME")
    given = search_fields(query, **filters)
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        base: dict[str, object] = {}
        if saved_name is not None:
            base = dict(saved_searches.find_search(session, actor, saved_name).params)
        params = SearchParams.parse(base | given | {"page": str(page), "per_page": str(limit)})
        outcome = search_service.search(runtime.container, session, actor, params)
    if as_json:
        print_json(outcome.as_json())
        return
    console = Console()
    if outcome.total_exact:
        console.print(f"{outcome.total} documents found", highlight=False)
    else:
        console.print(f"{outcome.total:,}+ documents found", highlight=False)
    if outcome.ranked_window:
        console.print(
            f"ranked by relevance among the {outcome.ranked_window} most recent matches;"
            " the others follow by date",
            style="dim",
            highlight=False,
        )
    for hit in outcome.hits:
        line = Text()
        line.append(hit.document, style="bold cyan")
        line.append(f"  {hit.title}  ")
        line.append(f"[{hit.archive} · {hit.class_code}", style="dim")
        if hit.document_date:
            line.append(f" · {hit.document_date.isoformat()}", style="dim")
        line.append("]", style="dim")
        console.print(line)
        console.print(_snippet_text(hit.snippet))
    if outcome.class_facets:
        counts = ", ".join(f"{f.key} {f.count}" for f in outcome.class_facets)
        console.print(f"per class: {counts}", style="dim", highlight=False)


def search_fields(query: str | None, **filters: object) -> dict[str, object]:
    """The search form's fields from the search options given (the others left out)."""
    fields: dict[str, object] = {}
    if query is not None:
        fields["query"] = query
    names = {
        "archive_number": "archive",
        "class_code": "class_code",
        "state": "state",
        "sort": "sort",
    }
    for option, name in names.items():
        if filters.get(option) is not None:
            fields[name] = filters[option]
    for name in ("date_from", "date_to"):
        value = filters.get(name)
        if isinstance(value, date):
            fields[name] = value.isoformat()
    for name in ("amount_min", "amount_max"):
        if filters.get(name) is not None:
            fields[name] = str(filters[name])
    if filters.get("tags"):
        fields["tags"] = list(filters["tags"])  # type: ignore[call-overload]
    return fields


def _snippet_text(snippet: str) -> Text:
    text = Text("  ")
    position = 0
    for match in _MARK.finditer(snippet):
        text.append(html.unescape(snippet[position : match.start()]))
        text.append(html.unescape(match.group(1)), style="reverse")
        position = match.end()
    text.append(html.unescape(snippet[position:]))
    return text


@click.command()
@click.option(
    "--batch-size",
    default=search_maintenance.BATCH,
    show_default=True,
    type=click.IntRange(1, 5000),
)
@click.option("--restart", is_flag=True, help="Ignore the checkpoint of an interrupted run.")
@click.option(
    "--to",
    "target",
    metavar="URL",
    help="Build the index of this backend beside the one in use and switch to it when complete.",
)
@as_option
@json_option
@pass_runtime
def reindex(
    runtime: Runtime,
    batch_size: int,
    restart: bool,
    target: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Rebuild the search index from the database and the decrypted text (resumable).

    With --to URL (tantivy:///PATH, whoosh:///PATH or postgresql://...), the new backend's
    index is built beside the one in use, which answers searches until the new one is
    complete; then the instance switches to it. Interrupted, run the same command again to
    go on. Restart `archive serve` and workers afterwards."""
    container = runtime.container
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
    before = container.settings.resolved_search_url
    console = Console(stderr=True)
    with progress_bar(console, "indexing") as progress:
        task = progress.add_task("indexing", total=None)

        def on_progress(p: search_maintenance.Progress) -> None:
            progress.update(task, completed=p.done, total=p.total)

        if target is None:
            report = search_maintenance.rebuild(
                container, actor, batch_size=batch_size, on_progress=on_progress, restart=restart
            )
        else:
            report = search_maintenance.switch(
                container,
                actor,
                target,
                batch_size=batch_size,
                on_progress=on_progress,
                restart=restart,
            )
    result: dict[str, object] = {
        "indexed": report.indexed,
        "resumed_after": report.resumed_after,
        "removed": report.removed,
        "seconds": round(report.elapsed, 2),
    }
    if target is not None:
        result["backend"] = target
    with runtime.session() as session:
        audit.record(
            session,
            runtime.actor(session, actor.username),
            "search.reindex" if target is None else "search.switch",
            "index",
            "*",
            before={"backend": before} if target is not None else None,
            after=result,
        )
    if as_json:
        print_json(result)
        return
    resumed = f" (resumed after document id {report.resumed_after})" if report.resumed_after else ""
    click.echo(
        f"indexed {report.indexed} documents{resumed}, removed {report.removed} stale entries "
        f"in {report.elapsed:.1f}s",
        err=True,
    )
    if target is not None:
        click.echo(f"search now uses {target}", err=True)


@click.group()
def index() -> None:
    """Search index maintenance."""


@index.command("check")
@click.option("--repair", is_flag=True, help="Index missing documents and remove extra entries.")
@as_option
@json_option
@pass_runtime
def check(runtime: Runtime, repair: bool, as_user: str | None, as_json: bool) -> None:
    """Compare the search index with the database (exit 1 if drift remains)."""
    container = runtime.container
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
    report = search_maintenance.check(container, actor, repair=repair)
    with runtime.session() as session:
        audit.record(
            session,
            runtime.actor(session, actor.username),
            "search.check",
            "index",
            "*",
            after={
                "missing": len(report.missing),
                "extra": len(report.extra),
                "repaired": report.repaired,
            },
        )
    if as_json:
        print_json(report.as_dict())
    else:
        for number in report.missing:
            click.echo(f"missing from the index: {number}")
        for number in report.extra:
            click.echo(f"in the index without a document: {number}")
        if report.repaired:
            click.echo(f"repaired: {report.added} indexed, {report.removed} removed", err=True)
        elif not report.missing and not report.extra:
            click.echo("the index matches the database", err=True)
    if not report.clean:
        if not as_json:
            click.echo(
                "archive: the index has drifted; run `archive index check --repair`", err=True
            )
        sys.exit(1)
