"""``archive init`` and ``archive serve``."""

from __future__ import annotations

import os
import signal
import sys

import click

from archive_app.cli.runtime import Runtime, json_option, pass_runtime, print_json
from archive_app.infra import processes, workers
from archive_app.infra.supervisor import Supervisor, stop_strays
from archive_app.services import consume as consume_service
from archive_app.services.initialise import initialise


def register(cli: click.Group) -> None:
    cli.add_command(init)
    cli.add_command(serve)


@click.command()
@json_option
@pass_runtime
def init(runtime: Runtime, as_json: bool) -> None:
    """Create or upgrade the instance (safe to run twice; never replaces a key).

    With --json: {"home", "admin_password"}, the password only when the admin user was
    created now (and not given in ARCHIVE_ADMIN_PASSWORD)."""
    settings = runtime.settings
    report = initialise(
        settings,
        admin_password=os.environ.get("ARCHIVE_ADMIN_PASSWORD") or None,
        on_step=lambda message: click.echo(f"  {message}", err=True),
    )
    if as_json:
        print_json({"home": str(report.home), "admin_password": report.created_admin_password})
        return
    click.echo(f"Instance ready in {report.home}", err=True)
    if report.created_admin_password:
        click.echo(
            f"The admin password is: {report.created_admin_password}\n"
            "It is shown only this once; you will be asked to choose your own password "
            "at the first login.",
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
    """Serve the web UI and API, with an embedded background worker.

    The worker runs as a supervised child process: restarted with a growing delay if it
    dies, stopped (running tasks finish, up to 30 seconds) when the server stops on
    SIGTERM or Ctrl+C. A worker left behind by a server that was killed is stopped first.
    When ARCHIVE_CONSUME_DIR is set, ``archive consume`` runs beside it, supervised the same
    way (it stops by itself when the server is gone).
    """
    from waitress import serve as waitress_serve

    from archive_app.app import create_app

    app = create_app(runtime.settings)
    if worker:
        runtime.container.open_engines()  # a missing OCR engine stops us here, in one line
    supervisor = _embedded_worker(runtime) if worker else None
    consumer = _consumer(runtime) if runtime.settings.consume_dir else None
    # SIGTERM (a service manager stopping us) ends the server like Ctrl+C does, so the
    # worker is stopped below instead of being left running.
    signal.signal(signal.SIGTERM, _interrupt)
    click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="archive")
    finally:
        if consumer is not None:
            click.echo("stopping the intake folder's consumer", err=True)
            consumer.stop()
        if supervisor is not None:
            click.echo("stopping the background worker", err=True)
            supervisor.stop()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _embedded_worker(runtime: Runtime) -> Supervisor:
    database = runtime.database
    with database.session() as session:
        strays = [stray.pid for stray in workers.orphaned_embedded(session)]
    if strays:
        click.echo(f"stopping the worker left behind by a killed server: {strays}", err=True)
        stop_strays(strays)
    me = processes.current()

    def on_exit(pid: int, returncode: int, delay: float) -> None:
        workers.mark_gone(database, me.hostname, pid)
        click.echo(
            f"archive: the background worker (pid {pid}) exited with status {returncode}; "
            f"restarting it in {delay:g} s",
            err=True,
        )

    supervisor = Supervisor(
        [
            sys.executable,
            "-m",
            "archive_app",
            "worker",
            "--loglevel",
            "WARNING",
            "--beat",
            "--parent",
            str(me.pid),
        ],
        on_exit=on_exit,
    )
    supervisor.start()
    return supervisor


def _consumer(runtime: Runtime) -> Supervisor:
    settings = runtime.settings
    assert settings.consume_dir is not None and settings.consume_user is not None
    with runtime.session() as session:
        consume_service.service_user(session, settings.consume_user)  # a bad user stops us here
    me = processes.current()

    def on_exit(pid: int, returncode: int, delay: float) -> None:
        click.echo(
            f"archive: the intake folder's consumer (pid {pid}) exited with status "
            f"{returncode}; restarting it in {delay:g} s",
            err=True,
        )

    supervisor = Supervisor(
        [sys.executable, "-m", "archive_app", "consume", "--parent", str(me.pid)],
        on_exit=on_exit,
        stop_timeout=10.0,
    )
    supervisor.start()
    return supervisor
