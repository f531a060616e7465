"""``archive tags``, ``archive notes``, ``archive bulk-edit`` and ``archive searches``.

``tags add|remove DOCUMENT TAG...`` print the document's tags after the change; ``tags
list`` every tag on a record the user may see with its count. ``notes add DOCUMENT TEXT``
and ``notes list DOCUMENT``. ``bulk-edit DOCUMENT... [--class C] [--set F=V]... [--add-tag
T]... [--remove-tag T]...`` changes each record on its own and prints
``{"changed", "unchanged", "refused": {number: reason}}``; it exits 1 when any record was
refused (the others are changed). ``searches save NAME QUERY [filters] [--shared]``,
``searches list``, ``searches delete NAME``; ``archive search --saved NAME`` runs one.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import click

from archive_app.cli.runtime import Runtime, as_option, json_option, pass_runtime, print_json
from archive_app.cli.search import search_fields
from archive_app.cli.types import AMOUNT, ASSIGNMENT, DATE
from archive_app.models import DocumentNote, SavedSearch, User
from archive_app.search import queries as search_service
from archive_app.search.queries import SearchParams
from archive_app.services import bulk_edit as bulk_service
from archive_app.services import notes as note_service
from archive_app.services import saved_searches
from archive_app.services import tags as tag_service


def register(cli: click.Group) -> None:
    for command in (tags, notes, bulk_edit, searches):
        cli.add_command(command)


# ------------------------------------------------------------------------------- tags


@click.group()
def tags() -> None:
    """Tags on documents."""


def _change_tags(
    runtime: Runtime,
    number: str,
    names: tuple[str, ...],
    as_user: str | None,
    as_json: bool,
    *,
    add: bool,
) -> None:
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        after = tag_service.tag_document(
            session, actor, number, add=names if add else (), remove=() if add else names
        )
    if as_json:
        print_json({"document": number, "tags": after})
    else:
        click.echo(f"{number}: {', '.join(after) or '(no tags)'}")


@tags.command("add")
@click.argument("number")
@click.argument("names", nargs=-1, required=True)
@as_option
@json_option
@pass_runtime
def tags_add(
    runtime: Runtime, number: str, names: tuple[str, ...], as_user: str | None, as_json: bool
) -> None:
    """Put tags on a document."""
    _change_tags(runtime, number, names, as_user, as_json, add=True)


@tags.command("remove")
@click.argument("number")
@click.argument("names", nargs=-1, required=True)
@as_option
@json_option
@pass_runtime
def tags_remove(
    runtime: Runtime, number: str, names: tuple[str, ...], as_user: str | None, as_json: bool
) -> None:
    """Take tags off a document."""
    _change_tags(runtime, number, names, as_user, as_json, add=False)


@tags.command("list")
@as_option
@json_option
@pass_runtime
def tags_list(runtime: Runtime, as_user: str | None, as_json: bool) -> None:
    """Every tag in use on records you may see, with the number of records."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        found = tag_service.tags_in_use(session, actor)
    if as_json:
        print_json([{"tag": name, "documents": count} for name, count in found])
        return
    for name, count in found:
        click.echo(f"{name}\t{count}")


# ------------------------------------------------------------------------------ notes


@click.group()
def notes() -> None:
    """Notes on documents."""


def _note_json(note: DocumentNote) -> dict[str, object]:
    return {"author": note.author.username, "at": note.created_at.isoformat(), "text": note.body}


@notes.command("add")
@click.argument("number")
@click.argument("text")
@as_option
@json_option
@pass_runtime
def notes_add(runtime: Runtime, number: str, text: str, as_user: str | None, as_json: bool) -> None:
    """Write a note on a document."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        result = _note_json(note_service.add_note(session, actor, number, text))
    if as_json:
        print_json(result)
    else:
        click.echo(f"note added to {number}")


@notes.command("list")
@click.argument("number")
@as_option
@json_option
@pass_runtime
def notes_list(runtime: Runtime, number: str, as_user: str | None, as_json: bool) -> None:
    """The notes on a document, oldest first."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        found = [_note_json(n) for n in note_service.list_notes(session, actor, number)]
    if as_json:
        print_json(found)
        return
    for note in found:
        click.echo(f"{note['at']}  {note['author']}: {note['text']}")


# -------------------------------------------------------------------------- bulk edit


@click.command("bulk-edit")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--class", "class_code", metavar="CODE", help="Move every record to this class.")
@click.option("--set", "assignments", multiple=True, type=ASSIGNMENT, help="FIELD=VALUE")
@click.option("--add-tag", "add_tags", multiple=True, metavar="TAG")
@click.option("--remove-tag", "remove_tags", multiple=True, metavar="TAG")
@as_option
@json_option
@pass_runtime
def bulk_edit(
    runtime: Runtime,
    numbers: tuple[str, ...],
    class_code: str | None,
    assignments: tuple[tuple[str, str], ...],
    add_tags: tuple[str, ...],
    remove_tags: tuple[str, ...],
    as_user: str | None,
    as_json: bool,
) -> None:
    """Change class, fields and tags of several documents; each one all or nothing."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        outcome = bulk_service.bulk_edit(
            session,
            actor,
            numbers,
            class_code=class_code,
            values=dict(assignments),
            add_tags=add_tags,
            remove_tags=remove_tags,
        )
    if as_json:
        print_json(outcome.as_json())
    else:
        click.echo(
            f"changed {len(outcome.changed)}, unchanged {len(outcome.unchanged)}, "
            f"refused {len(outcome.refused)}"
        )
    for number, reason in outcome.refused.items():
        click.echo(f"refused {number}: {reason}", err=True)
    if outcome.refused:
        raise SystemExit(1)


# --------------------------------------------------------------------- saved searches


@click.group()
def searches() -> None:
    """Saved searches."""


def _saved_json(saved: SavedSearch, actor: User) -> dict[str, object]:
    return {
        "name": saved.name,
        "owner": saved.owner.username,
        "shared": saved.shared,
        "own": saved.owner_id == actor.id,
        "params": saved.params,
    }


@searches.command("save")
@click.argument("name")
@click.argument("query")
@click.option("--archive", "archive_number", metavar="NUMBER")
@click.option("--class", "class_code", metavar="CODE")
@click.option("--tag", "tags", multiple=True, metavar="TAG")
@click.option("--state", type=click.Choice(search_service.STATES))
@click.option("--from", "date_from", type=DATE)
@click.option("--to", "date_to", type=DATE)
@click.option("--min-amount", "amount_min", type=AMOUNT)
@click.option("--max-amount", "amount_max", type=AMOUNT)
@click.option("--sort", type=click.Choice(search_service.SORTS))
@click.option(
    "--shared", is_flag=True, help="Offer it to every user (each runs it with their own clearance)."
)
@as_option
@json_option
@pass_runtime
def searches_save(
    runtime: Runtime,
    name: str,
    query: str,
    shared: bool,
    as_user: str | None,
    as_json: bool,
    **filters: str | date | Decimal | tuple[str, ...] | None,
) -> None:
    """Save a search (query and filters) under NAME; an own search of that name is replaced."""
    params = SearchParams.parse(search_fields(query, **filters))
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        result = _saved_json(
            saved_searches.save_search(session, actor, name, params, shared=shared), actor
        )
    if as_json:
        print_json(result)
    else:
        click.echo(f"saved search {result['name']!r}")


@searches.command("list")
@as_option
@json_option
@pass_runtime
def searches_list(runtime: Runtime, as_user: str | None, as_json: bool) -> None:
    """Your saved searches, then those other users shared."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        found = [_saved_json(s, actor) for s in saved_searches.visible_searches(session, actor)]
    if as_json:
        print_json(found)
        return
    for item in found:
        whose = (
            "shared"
            if item["own"] and item["shared"]
            else ""
            if item["own"]
            else f"from {item['owner']}"
        )
        click.echo(f"{item['name']}\t{item['params'].get('query', '')}\t{whose}".rstrip())  # type: ignore[union-attr]


@searches.command("delete")
@click.argument("name")
@as_option
@json_option
@pass_runtime
def searches_delete(runtime: Runtime, name: str, as_user: str | None, as_json: bool) -> None:
    """Delete one of your saved searches."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        saved_searches.delete_search(session, actor, name)
    if as_json:
        print_json({"deleted": name})
    else:
        click.echo(f"deleted saved search {name!r}")
