"""``archive init`` and ``archive serve``."""

from __future__ import annotations

import os

import click

from archive_app.cli.runtime import Runtime, pass_runtime
from archive_app.instance import initialise


def register(cli: click.Group) -> None:
    cli.add_command(init)
    cli.add_command(serve)


@click.command()
@pass_runtime
def init(runtime: Runtime) -> None:
    """Create or upgrade the instance (safe to run twice; never replaces a key)."""
    settings = runtime.settings
    report = initialise(
        settings,
        admin_password=os.environ.get("ARCHIVE_ADMIN_PASSWORD") or None,
        on_step=lambda message: click.echo(f"  {message}", err=True),
    )
    click.echo(f"Instance ready in {report.home}", err=True)
    if report.created_admin_password:
        click.echo(
            f"The admin password is: {report.created_admin_password}\n"
            "It is shown only this once: write it down or change it after logging in.",
            err=True,
        )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@pass_runtime
def serve(runtime: Runtime, host: str, port: int, threads: int) -> None:
    """Serve the web UI and API."""
    from waitress import serve as waitress_serve

    from archive_app.app import create_app

    app = create_app(runtime.settings)
    click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    waitress_serve(app, host=host, port=port, threads=threads, ident="archive")
