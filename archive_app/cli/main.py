"""Entry point: the command group and the one place where errors become exit codes, and
where a permission refusal is written to the audit trail."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from archive_app.cli import (
    archives,
    audit,
    backup,
    catalogue,
    checklist,
    classes,
    consume,
    documents,
    inspection,
    instance,
    retention,
    review,
    search,
    tokens,
    users,
)
from archive_app.cli.runtime import Runtime
from archive_app.errors import AppError, LibraryError
from archive_app.infra.private_files import private_umask
from archive_app.services import refusals
from archive_app.services.bootstrap import ADMIN_USERNAME


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
consume.register(cli)
classes.register(cli)
checklist.register(cli)
search.register(cli)
catalogue.register(cli)
retention.register(cli)
inspection.register(cli)
review.register(cli)
backup.register(cli)
tokens.register(cli)


def main(argv: list[str] | None = None) -> None:
    # Whatever this process creates in the instance is private to its account.
    private_umask()
    args = list(sys.argv[1:] if argv is None else argv)
    runtime = Runtime()
    try:
        cli.main(args=args, prog_name="archive", standalone_mode=False, obj=runtime)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.UsageError as error:
        # One line, like every other error: what is wrong, and where the help is.
        hint = f" (see `{error.ctx.command_path} --help`)" if error.ctx is not None else ""
        click.echo(f"archive: {_one_line(error.format_message())}{hint}", err=True)
        sys.exit(error.exit_code)
    except click.ClickException as error:
        click.echo(f"archive: {_one_line(error.format_message())}", err=True)
        sys.exit(error.exit_code)
    except AppError as error:
        if refusals.is_refusal(error):
            _record_refusal(runtime, args, error)
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


def _command_path(args: list[str]) -> str:
    """``archive audit list``: the command's words only, never its values."""
    words, group = ["archive"], cli
    for arg in args:
        command = group.commands.get(arg) if isinstance(group, click.Group) else None
        if command is None:
            break
        words.append(arg)
        group = command
    return " ".join(words)


def _acting_user(args: list[str], error: AppError) -> str:
    named = getattr(error, "username", None)
    if isinstance(named, str) and named:
        return named
    for index, arg in enumerate(args):
        if arg == "--as" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--as="):
            return arg.removeprefix("--as=")
    return ADMIN_USERNAME


def _record_refusal(runtime: Runtime, args: list[str], error: AppError) -> None:
    try:
        refusals.record_refusal(
            runtime.database, _acting_user(args, error), error, where=_command_path(args)
        )
    except (AppError, SQLAlchemyError):
        pass  # the refusal is still reported; an unreachable trail is not a second error
    finally:
        runtime.close()


def _one_line(message: str) -> str:
    return " ".join(line.strip() for line in message.splitlines() if line.strip())
