"""``archive consume [DIR]``: file what arrives in the watched intake folder."""

from __future__ import annotations

import os
import signal
from datetime import datetime
from pathlib import Path

import click

from archive_app.cli.runtime import Runtime, pass_runtime
from archive_app.errors import SettingsError
from archive_app.services import consume as consume_service


def register(cli: click.Group) -> None:
    cli.add_command(consume)


@click.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--as",
    "as_user",
    metavar="USERNAME",
    help="File as this user (an archivist or admin). Default: ARCHIVE_CONSUME_USER.",
)
# Set by ``archive serve`` for the consumer it runs: stop when that process is gone.
@click.option("--parent", type=int, hidden=True)
@pass_runtime
def consume(runtime: Runtime, folder: Path | None, as_user: str | None, parent: int | None) -> None:
    """Watch FOLDER (default: ARCHIVE_CONSUME_DIR) and file every complete file that
    arrives in FOLDER/ARCHIVE_NUMBER/ or FOLDER/ARCHIVE_NUMBER/CLASS_CODE/, then remove it.
    A refused file moves to FOLDER/.rejected/ with NAME.reason.txt beside it. Runs until
    stopped (Ctrl+C or SIGTERM)."""
    settings = runtime.settings
    target = folder or settings.consume_dir
    if target is None:
        raise SettingsError("ARCHIVE_CONSUME_DIR", "name the folder to watch (or pass FOLDER)")
    username = as_user or settings.consume_user
    if not username:
        raise SettingsError("ARCHIVE_CONSUME_USER", "name the user to file as (or pass --as)")
    target = target.expanduser().absolute()
    container = runtime.container
    container.open_store()
    signal.signal(signal.SIGTERM, _interrupt)

    def say(line: str) -> None:
        stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{stamp} {line}", err=True)

    def on_start(kind: str) -> None:
        say(f"consuming {target} as {username} (watching with {kind})")

    def keep_going() -> bool:
        return parent is None or os.getppid() == parent

    try:
        consume_service.run(
            container,
            username,
            target,
            on_event=lambda event: say(event.line()),
            on_start=on_start,
            keep_going=keep_going,
        )
    except KeyboardInterrupt:
        say("stopped")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
