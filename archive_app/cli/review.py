"""``archive review year-end YEAR``: the year-end review (年终整理), and its sign-off.

``archive review year-end YEAR [--archive NUMBER] [--json] [--as USER]`` prints the figures
per archive and in total (:mod:`archive_app.services.year_end`) over the archives the user
may see; ``--pdf FILE`` also writes the printable report. ``--sign-off`` records the review
as checked by the acting compliance user; a second sign-off of the same year and scope,
or one by anybody else, is refused (exit 1, one line). A YEAR that is not a number is a
usage error (exit 2).
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from archive_app.cli.runtime import (
    Runtime,
    as_option,
    json_option,
    output_file,
    pass_runtime,
    print_json,
)
from archive_app.services import year_end
from archive_app.services.year_end_pdf import year_end_pdf


def register(cli: click.Group) -> None:
    cli.add_command(review_group)


@click.group("review")
def review_group() -> None:
    """Periodic reviews of the archive: the year-end review (年终整理)."""


@review_group.command("year-end")
@click.argument("year", type=int)
@click.option("--archive", "archive", metavar="NUMBER", help="Only this archive.")
@click.option("--sign-off", "sign", is_flag=True, help="Sign the review off (compliance).")
@click.option("--pdf", "pdf", metavar="FILE", help="Also write the printable report (PDF).")
@as_option
@json_option
@pass_runtime
def year_end_command(
    runtime: Runtime,
    year: int,
    archive: str | None,
    sign: bool,
    pdf: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """For YEAR: records filed by class, checklist lines not confirmed, declared records
    without a paper location, versions awaiting review, records due for appraisal next
    year and fixity problems found by the year's latest inspection."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        if sign:
            result = year_end.sign_off(session, actor, year, archive)
        else:
            result = year_end.review(session, actor, year, archive)
        printed_by = actor.username
    if pdf:
        data = year_end_pdf(result, printed_by=printed_by)
        with output_file(pdf) as out:
            out.write(data)
    if as_json:
        print_json(result.as_dict())
    else:
        _print(result)


def _print(result: year_end.Review) -> None:
    console = Console()
    scope = "all archives" if result.scope == "all" else f"archive {result.scope}"
    console.print(f"year-end review {result.year}, {scope}", highlight=False)
    table = Table()
    for heading in (
        "archive",
        "filed",
        "not confirmed",
        "no paper location",
        "versions to review",
        "appraisal due next year",
        "fixity problems",
    ):
        table.add_column(heading, no_wrap=True)
    for figures in [*result.archives, result.total]:
        table.add_row(
            figures.archive or "total",
            str(figures.filed_total),
            str(figures.unconfirmed_total),
            str(figures.unlocated),
            str(figures.versions_awaiting_review),
            str(figures.appraisal_due),
            str(figures.fixity_problems),
        )
    console.print(table)
    filed = ", ".join(f"{code} {n}" for code, n in sorted(result.total.filed.items()))
    console.print(f"filed by class: {filed or 'none'}", highlight=False)
    console.print("paper originals not returned: no borrowing register", highlight=False)
    if result.inspection is None:
        console.print("inspection: none in this year", highlight=False)
    else:
        run = result.inspection
        console.print(
            f"inspection: run {run['run']} started {run['started_at'][:16]} ({run['state']})",
            highlight=False,
        )
    if result.hidden_archives:
        console.print(
            f"{result.hidden_archives} archive(s) above your clearance are not included",
            highlight=False,
        )
    if result.sign_off is None:
        console.print("not signed off", highlight=False)
    else:
        signed = result.sign_off
        console.print(
            f"signed off by {signed.signed_by} at {signed.signed_at:%Y-%m-%d %H:%M} UTC, "
            f"figures sha256 {signed.figures_sha256}"
            + ("" if signed.current else " (the figures have changed since)"),
            highlight=False,
        )
