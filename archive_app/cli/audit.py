"""``archive audit verify``."""

from __future__ import annotations

import click

from archive_app.cli.runtime import Runtime, as_option, json_option, pass_runtime, print_json
from archive_app.errors import AuditChainBroken
from archive_app.services.audit import check_trail


def register(cli: click.Group) -> None:
    cli.add_command(audit)


@click.group()
def audit() -> None:
    """The tamper-evident audit trail."""


@audit.command("verify")
@as_option
@json_option
@pass_runtime
def verify(runtime: Runtime, as_user: str | None, as_json: bool) -> None:
    """Check the hash chain; exit 1 and name the first broken link if it is broken.

    Auditors, compliance and admin users; the check is recorded in the trail."""
    with runtime.session() as session:
        report = check_trail(session, runtime.actor(session, as_user))
    if as_json:
        print_json(report.as_dict())
        if not report.ok:
            raise SystemExit(1)
        return
    if not report.ok:
        raise AuditChainBroken(report.broken_at, report.problem or "")
    click.echo(f"audit trail intact: {report.entries} entries verified")
