"""``archive verify``: the periodic inspection (:mod:`archive_app.services.inspection`), run
and recorded in the inspection history as a manual run by the acting user
(:mod:`archive_app.services.inspection_runs`); refused while another inspection runs.

A progress bar on stderr while objects are checked, then a summary and a table of the
findings on the terminal or, with ``--json``, the report as one JSON document. Exit 0 when
nothing was found, 1 when anything was (scripts and schedulers rely on that).
"""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from archive_app.cli.runtime import (
    Runtime,
    as_option,
    json_option,
    pass_runtime,
    print_json,
    progress_bar,
)
from archive_app.services import inspection, inspection_runs

# Beyond this the table stops being read by a person; --json has every finding.
TABLE_ROWS = 500


def register(cli: click.Group) -> None:
    cli.add_command(verify)


@click.command()
@as_option
@json_option
@pass_runtime
def verify(runtime: Runtime, as_user: str | None, as_json: bool) -> None:
    """Periodic inspection: fixity of every stored object, checklist against storage,
    index against database. Changes nothing.

    Exit status: 0 when everything checks out, 1 when anything was found (or the
    inspection could not run). Compliance and admin users only.
    """
    container = runtime.container
    # The actor is loaded in a transaction of its own: the inspection reads in short
    # transactions and must not run inside one (on SQLite it would hold the write lock).
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
    with progress_bar(Console(stderr=True), "checking") as bar:
        task = bar.add_task("checking", total=None)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        _run, report = inspection_runs.run_inspection(container, actor, progress=on_progress)
    if as_json:
        print_json(report.as_dict())
    else:
        _print_report(report)
    if not report.clean:
        sys.exit(1)


def _print_report(report: inspection.InspectionReport) -> None:
    console = Console()
    console.print(
        f"checked {report.documents} documents and {report.versions} earlier versions "
        f"({report.objects_checked} objects read back); {report.store_objects} objects in "
        f"the store; {report.destroyed} destroyed records skipped",
        highlight=False,
    )
    if report.clean:
        console.print("no problems found", highlight=False)
        return
    counts = ", ".join(f"{name} {n}" for name, n in report.problem_counts().items() if n)
    console.print(f"{len(report.findings)} problems found: {counts}", highlight=False)
    table = Table()
    # Numbers and codes are what people copy into the next command: never wrapped.
    for heading in ("problem", "document", "version", "object"):
        table.add_column(heading, no_wrap=True)
    table.add_column("detail", overflow="fold")
    for finding in report.findings[:TABLE_ROWS]:
        where = finding.document or (f"archive {finding.archive}" if finding.archive else "-")
        detail = finding.detail
        if finding.document is None and finding.object_id:
            detail = f"object {finding.object_id}: {detail}"
        # Text cells: details quote store messages and ids that rich must not read as markup.
        table.add_row(
            Text(finding.problem.value),
            Text(where),
            Text(str(finding.version) if finding.version is not None else ""),
            Text(finding.kind.value if finding.kind else ""),
            Text(detail),
        )
    console.print(table)
    if len(report.findings) > TABLE_ROWS:
        console.print(
            f"... and {len(report.findings) - TABLE_ROWS} more; `archive verify --json` "
            "lists them all",
            highlight=False,
        )
