"""``archive users create|list``."""

from __future__ import annotations

import sys

import click

from archive_app.cli.runtime import Runtime, as_option, json_option, pass_runtime, print_json
from archive_app.models.user import Level, Role
from archive_app.services import users as user_service


def register(cli: click.Group) -> None:
    cli.add_command(users)


@click.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--clearance", type=click.Choice([level.value for level in Level]))
@click.option("--display-name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@as_option
@json_option
@pass_runtime
def create(
    runtime: Runtime,
    name: str,
    role: str,
    clearance: str | None,
    display_name: str,
    password_stdin: bool,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Create a user NAME with a ROLE."""
    with runtime.session() as session:
        user_service.require_may_create(runtime.actor(session, as_user))
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        user = user_service.create_user(
            session,
            actor,
            username=name,
            role=role,
            password=password,
            display_name=display_name,
            clearance=clearance,
        )
        result = {
            "username": user.username,
            "role": user.role.value,
            "clearance": user.clearance.value,
        }
    if as_json:
        print_json(result)
    else:
        click.echo(f"created user {result['username']} ({result['role']})")


@users.command("list")
@as_option
@json_option
@pass_runtime
def list_users(runtime: Runtime, as_user: str | None, as_json: bool) -> None:
    """All users with their role and clearance."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        rows = [
            {
                "username": user.username,
                "display_name": user.display_name,
                "role": user.role.value,
                "clearance": user.clearance.value,
                "active": user.active,
            }
            for user in user_service.list_users(session, actor)
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        state = "" if row["active"] else "  (inactive)"
        click.echo(f"{row['username']:<20} {row['role']:<11} {row['clearance']:<13}{state}")
