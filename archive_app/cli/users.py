"""``archive users create|list|set-password|set-email``."""

from __future__ import annotations

import sys

import click

from archive_app.cli.runtime import Runtime, as_option, json_option, pass_runtime, print_json
from archive_app.models.user import Level, Role
from archive_app.services import lockouts, passwords
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
    password = _read_password(password_stdin)
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


@users.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@as_option
@json_option
@pass_runtime
def set_password(
    runtime: Runtime, name: str, password_stdin: bool, as_user: str | None, as_json: bool
) -> None:
    """Set the password of NAME: your own (--as NAME) is changed; another user's is reset,
    and they must change it at their next login. Their open sessions end."""
    with runtime.session() as session:
        passwords.require_may_set(session, runtime.actor(session, as_user), name)
    password = _read_password(password_stdin)
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        user = passwords.set_password(session, actor, name, new=password)
        result = {"username": user.username, "must_change_password": user.must_change_password}
    if as_json:
        print_json(result)
    elif result["must_change_password"]:
        click.echo(f"password of {result['username']} reset; it must be changed at next login")
    else:
        click.echo(f"password of {result['username']} changed")


@users.command("set-email")
@click.argument("name")
@click.argument("email", required=False, default="")
@as_option
@json_option
@pass_runtime
def set_email(runtime: Runtime, name: str, email: str, as_user: str | None, as_json: bool) -> None:
    """Set where NAME's reminders are mailed (ARCHIVE_SMTP_URL); no EMAIL clears it."""
    with runtime.session() as session:
        user = user_service.set_email(session, runtime.actor(session, as_user), name, email)
        result = {"username": user.username, "email": user.email}
    if as_json:
        print_json(result)
    else:
        click.echo(f"e-mail of {result['username']}: {result['email'] or '(none)'}")


@users.command("unlock")
@click.argument("name")
@as_option
@json_option
@pass_runtime
def unlock(runtime: Runtime, name: str, as_user: str | None, as_json: bool) -> None:
    """Unlock NAME, locked after too many failed logins (recorded in the audit trail)."""
    with runtime.session() as session:
        user = lockouts.unlock(session, runtime.actor(session, as_user), name)
        result = {"username": user.username, "locked": False}
    if as_json:
        print_json(result)
    else:
        click.echo(f"{result['username']} unlocked")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)
