"""``archive tokens create|list|revoke``: API tokens (``Authorization: Bearer``).

``create`` prints the token once; only its SHA-256 is kept, so it cannot be shown again.
"""

from __future__ import annotations

from typing import Any

import click

from archive_app.cli.runtime import Runtime, as_option, json_option, pass_runtime, print_json
from archive_app.models import ApiToken
from archive_app.services import api_tokens


def register(cli: click.Group) -> None:
    cli.add_command(tokens)


@click.group()
def tokens() -> None:
    """API tokens."""


def _token_document(row: ApiToken) -> dict[str, Any]:
    return {
        "id": row.id,
        "user": row.user.username,
        "name": row.name,
        "prefix": row.prefix,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "live": api_tokens.is_live(row),
    }


@tokens.command("create")
@click.argument("username", metavar="USER")
@click.option("--name", required=True, help="What the token is for (e.g. the calling system).")
@click.option("--expires", "expires_days", type=int, metavar="DAYS", help="Default: never.")
@as_option
@json_option
@pass_runtime
def create(
    runtime: Runtime,
    username: str,
    name: str,
    expires_days: int | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Create a token acting as USER; it is printed once."""
    with runtime.session() as session:
        row, token = api_tokens.create(
            session, runtime.actor(session, as_user), username, name, expires_days=expires_days
        )
        result = {**_token_document(row), "token": token}
    if as_json:
        print_json(result)
    else:
        click.echo(token)
        click.echo(
            f"token {result['id']} ({result['name']}) for {result['user']}: keep it now, "
            "it is not shown again",
            err=True,
        )


@tokens.command("list")
@click.argument("username", metavar="[USER]", required=False)
@as_option
@json_option
@pass_runtime
def list_tokens(runtime: Runtime, username: str | None, as_user: str | None, as_json: bool) -> None:
    """USER's tokens, or every token you may manage, newest first (never the tokens
    themselves)."""
    with runtime.session() as session:
        rows = api_tokens.list_tokens(session, runtime.actor(session, as_user), username)
        result = [_token_document(row) for row in rows]
    if as_json:
        print_json(result)
        return
    for item in result:
        state = "live" if item["live"] else ("revoked" if item["revoked_at"] else "expired")
        expires = item["expires_at"] or "never"
        click.echo(
            f"{item['id']:>5} {item['user']:<16} {item['prefix']}… {item['name']:<30} "
            f"{state:<8} expires {expires}"
        )


@tokens.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
@as_option
@json_option
@pass_runtime
def revoke(runtime: Runtime, token_id: int, as_user: str | None, as_json: bool) -> None:
    """Revoke token ID at once."""
    with runtime.session() as session:
        row = api_tokens.revoke(session, runtime.actor(session, as_user), token_id)
        result = _token_document(row)
    if as_json:
        print_json(result)
    else:
        click.echo(f"token {result['id']} ({result['name']}) of {result['user']} revoked")
