"""Entry point: the command group and the one place where errors become exit codes."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import OperationalError

from archive_app.cli import (
    archives,
    audit,
    backup,
    checklist,
    documents,
    inspection,
    instance,
    retention,
    search,
    users,
)
from archive_app.cli.runtime import Runtime
from archive_app.errors import AppError, LibraryError
from archive_app.infra.private_files import private_umask


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archive-records", prog_name="archive")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Customer archives: filing, search, retention and destruction."""
    runtime = ctx.ensure_object(Runtime)
    ctx.call_on_close(runtime.close)


instance.register(cli)
users.register(cli)
archives.register(cli)
audit.register(cli)
documents.register(cli)
checklist.register(cli)
search.register(cli)
retention.register(cli)
inspection.register(cli)
backup.register(cli)


def main(argv: list[str] | None = None) -> None:
    # Whatever this process creates in the instance is private to its account.
    private_umask()
    try:
        cli.main(args=argv, prog_name="archive", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except AppError as error:
        click.echo(f"archive: {error}", err=True)
        sys.exit(error.exit_code)
    except LibraryError as error:
        click.echo(f"archive: {error}", err=True)
        sys.exit(1)
    except OperationalError as error:
        # The database is unreachable or refused the connection: say so in one line.
        detail = str(error.orig or error).strip().splitlines()[0]
        click.echo(f"archive: database unavailable: {detail}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(0)
