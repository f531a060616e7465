"""``archive init`` and ``archive serve``."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from archive_app.cli.runtime import Runtime, pass_runtime
from archive_app.services.initialise import initialise


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
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Run a background worker beside the web server (the embedded default).",
)
@pass_runtime
def serve(runtime: Runtime, host: str, port: int, threads: int, worker: bool) -> None:
    """Serve the web UI and API, with an embedded background worker."""
    from waitress import serve as waitress_serve

    from archive_app.app import create_app

    app = create_app(runtime.settings)
    if worker:
        runtime.container.open_engines()  # a missing OCR engine stops us here, in one line
    child = _start_worker() if worker else None
    click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="archive")
    finally:
        if child is not None:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


def _start_worker() -> subprocess.Popen[bytes]:
    """The worker runs as a child process with the same environment; it stops with us."""
    return subprocess.Popen(
        [sys.executable, "-m", "archive_app", "worker", "--loglevel", "WARNING", "--beat"]
    )
