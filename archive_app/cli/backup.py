"""``archive backup DEST`` and ``archive restore SRC`` (:mod:`archive_app.services.backup`).

A progress bar per phase on the terminal, then one summary line on stderr or, with
``--json``, the report as one JSON document on stdout. Refusals (a non-empty destination,
a damaged or incomplete backup, a wrong master key, a target that is not empty, a missing
or foreign destruction ledger) exit 1 with one line; ``--ledger`` with ``--without-ledger``
is a usage error (exit 2). Both act as ``--as USERNAME`` (default ``admin``), who must be an
administrator; for a restore the user is looked up in the backup, since the empty target
has no users yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import TaskID

from archive_app.cli.runtime import (
    Runtime,
    as_option,
    json_option,
    pass_runtime,
    print_json,
    progress_bar,
)
from archive_app.services import backup as backup_service
from archive_app.services.backup.progress import Progress
from archive_app.services.bootstrap import ADMIN_USERNAME


def register(cli: click.Group) -> None:
    cli.add_command(backup)
    cli.add_command(restore)


@contextmanager
def _phases() -> Iterator[Progress]:
    """A progress callback drawing one bar per phase on the terminal (stderr)."""
    with progress_bar(Console(stderr=True), "{task.description}") as bar:
        tasks: dict[str, TaskID] = {}

        def on_progress(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield on_progress


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@as_option
@json_option
@pass_runtime
def backup(runtime: Runtime, dest: Path, as_user: str | None, as_json: bool) -> None:
    """Write a consistent backup of the instance to the new folder DEST.

    The database, the key store, every encrypted object and the certificate signing key,
    with a manifest of SHA-256 sums written last. Never the master key: keep it apart from
    the backups (a restore needs it). Administrators only.
    """
    container = runtime.container
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
    with _phases() as on_progress, runtime.session() as session:
        report = backup_service.create_backup(container, session, actor, dest, progress=on_progress)
    if as_json:
        print_json(report.as_dict())
        return
    summary = report.manifest.summary()
    click.echo(
        f"backup {report.manifest.backup_id} written to {report.path}: "
        f"{sum(report.manifest.tables.values())} rows, {report.manifest.key_store['objects']} "
        f"objects, {summary['files']} files, {summary['bytes']} bytes",
        err=True,
    )


@click.command()
@click.argument("src", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--ledger",
    type=click.Path(file_okay=False, path_type=Path),
    help="The destruction ledger folder to replay (default: ARCHIVE_LEDGER_DIR).",
)
@click.option(
    "--without-ledger",
    is_flag=True,
    help="Restore without replaying destructions: what was destroyed after the backup "
    "comes back. Only when no copy of the ledger survives.",
)
@as_option
@json_option
@pass_runtime
def restore(
    runtime: Runtime,
    src: Path,
    ledger: Path | None,
    without_ledger: bool,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Restore the backup SRC into this empty instance, replay the destruction ledger,
    then rebuild the search index.

    Run it instead of `archive init`, with ARCHIVE_HOME and ARCHIVE_DATABASE_URL naming an
    empty instance and the master key the backup was made with supplied (ARCHIVE_MASTER_KEY
    or the key file). The ledger (--ledger, else ARCHIVE_LEDGER_DIR) makes every
    destruction after the backup happen again. Everything is checked before anything is
    written; safe to run again after a failure. --as names an administrator of the backup
    (default admin).
    """
    if ledger is not None and without_ledger:
        raise click.UsageError("--ledger and --without-ledger exclude each other")
    settings = runtime.settings
    with _phases() as on_progress:
        report = backup_service.restore_backup(
            settings,
            src,
            as_user or ADMIN_USERNAME,
            ledger=ledger,
            without_ledger=without_ledger,
            progress=on_progress,
        )
    if as_json:
        print_json(report.as_dict())
        return
    replayed = (
        f"{len(report.replayed)} destruction(s) after the backup replayed from {report.ledger}"
        if report.ledger
        else "NO destruction ledger replayed (--without-ledger)"
    )
    click.echo(
        f"restored backup {report.backup_id} of {report.backup_created_at.isoformat()} "
        f"into {settings.home}: {sum(report.tables.values())} rows, {report.objects} "
        f"objects; {replayed}; search index rebuilt ({report.indexed} documents)",
        err=True,
    )
