"""``archive classes list|create|edit|retire|add-field|edit-field|retire-field``: the class
catalogue."""

from __future__ import annotations

from typing import Any

import click

from archive_app.cli.runtime import Runtime, as_option, json_option, pass_runtime, print_json
from archive_app.domain.fieldtypes import ADMIN_TYPES
from archive_app.models import DocumentClass
from archive_app.services import classes as class_service


def register(cli: click.Group) -> None:
    cli.add_command(classes)


@click.group()
def classes() -> None:
    """Document classes and their fields (administrators change them)."""


def as_dict(document_class: DocumentClass) -> dict[str, Any]:
    return {
        "code": document_class.code,
        "name_zh": document_class.name_zh,
        "name_en": document_class.name_en,
        "number_code": document_class.number_code,
        "rule": document_class.retention_rule,
        "fields": [
            {
                "name": spec["name"],
                "type": spec["type"],
                "required": not spec.get("optional"),
                **({"choices": spec["choices"]} if spec.get("choices") else {}),
                **({"retired": True} if spec.get("retired") else {}),
            }
            for spec in document_class.required_fields
        ],
        "version": document_class.version,
        "active": document_class.active,
    }


def _show(result: dict[str, Any], verb: str, as_json: bool) -> None:
    if as_json:
        print_json(result)
    else:
        click.echo(f"{verb} class {result['code']} (version {result['version']})")


@classes.command("list")
@click.option("--all", "include_retired", is_flag=True, help="Include retired classes.")
@as_option
@json_option
@pass_runtime
def list_classes(
    runtime: Runtime, include_retired: bool, as_user: str | None, as_json: bool
) -> None:
    """Every active class (with --all, the retired ones too)."""
    with runtime.session() as session:
        rows = [
            as_dict(found)
            for found in class_service.list_classes(
                session, runtime.actor(session, as_user), include_retired=include_retired
            )
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        state = "" if row["active"] else "  (retired)"
        fields = (
            ", ".join(
                field["name"] + (" (retired)" if field.get("retired") else "")
                for field in row["fields"]
            )
            or "-"
        )
        click.echo(
            f"{row['code']:<22} {row['number_code']:<4} {row['rule'] or '-':<22} "
            f"{row['name_zh']} / {row['name_en']}  [{fields}]{state}"
        )


@classes.command("create")
@click.option("--code", required=True, help="Lowercase code, like service_agreement.")
@click.option("--name", required=True, help="The Chinese name.")
@click.option("--name-en", help="The English name (default: the Chinese name).")
@click.option("--number-code", required=True, help="2-4 capital letters in document numbers.")
@click.option("--rule", help="The retention rule code (archive retention rules).")
@as_option
@json_option
@pass_runtime
def create(
    runtime: Runtime,
    code: str,
    name: str,
    name_en: str | None,
    number_code: str,
    rule: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Create a document class (fields are added with add-field)."""
    with runtime.session() as session:
        created = class_service.create_class(
            session,
            runtime.actor(session, as_user),
            code=code,
            name_zh=name,
            name_en=name_en,
            number_code=number_code,
            rule=rule,
        )
        result = as_dict(created)
    _show(result, "created", as_json)


@classes.command("edit")
@click.argument("code")
@click.option("--name", help="The Chinese name.")
@click.option("--name-en", help="The English name.")
@click.option("--number-code", help="2-4 capital letters in new document numbers.")
@click.option("--rule", help="The retention rule code; an empty value removes it.")
@as_option
@json_option
@pass_runtime
def edit(
    runtime: Runtime,
    code: str,
    name: str | None,
    name_en: str | None,
    number_code: str | None,
    rule: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Change class CODE; documents already filed keep the definition they were filed under."""
    changes: dict[str, Any] = {"name_zh": name, "name_en": name_en, "number_code": number_code}
    if rule is not None:
        changes["rule"] = rule
    with runtime.session() as session:
        edited = class_service.edit_class(session, runtime.actor(session, as_user), code, **changes)
        result = as_dict(edited)
    _show(result, "edited", as_json)


@classes.command("retire")
@click.argument("code")
@click.option("--reason", default="", help="Why (kept with the class's history).")
@as_option
@json_option
@pass_runtime
def retire(runtime: Runtime, code: str, reason: str, as_user: str | None, as_json: bool) -> None:
    """Retire class CODE: nothing new is filed under it; its documents keep it."""
    with runtime.session() as session:
        retired = class_service.retire_class(session, runtime.actor(session, as_user), code, reason)
        result = as_dict(retired)
    _show(result, "retired", as_json)


@classes.command("add-field")
@click.argument("class_code", metavar="CLASS")
@click.option("--name", required=True, help="Field name: lowercase letters, digits and _.")
@click.option("--type", "field_type", required=True, help=f"One of: {', '.join(ADMIN_TYPES)}.")
@click.option("--required", is_flag=True, help="The checklist asks for it (default: optional).")
@click.option("--choices", default="", help="A choice field's values, comma-separated.")
@click.option("--label", help="The Chinese label (default: the name).")
@click.option("--label-en", help="The English label (default: the Chinese label).")
@as_option
@json_option
@pass_runtime
def add_field(
    runtime: Runtime,
    class_code: str,
    name: str,
    field_type: str,
    required: bool,
    choices: str,
    label: str | None,
    label_en: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Add a field to CLASS."""
    with runtime.session() as session:
        changed = class_service.add_field(
            session,
            runtime.actor(session, as_user),
            class_code,
            name=name,
            field_type=field_type,
            required=required,
            choices=[part for part in choices.replace("，", ",").split(",")],
            label_zh=label,
            label_en=label_en,
        )
        result = as_dict(changed)
    _show(result, f"added field {name} to", as_json)


@classes.command("edit-field")
@click.argument("class_code", metavar="CLASS")
@click.argument("name")
@click.option("--label", help="The Chinese label.")
@click.option("--label-en", help="The English label.")
@click.option(
    "--required/--optional",
    default=None,
    help="Whether the checklist asks for it (default: unchanged).",
)
@click.option("--choices", help="A choice field's values, comma-separated (replaces them).")
@as_option
@json_option
@pass_runtime
def edit_field(
    runtime: Runtime,
    class_code: str,
    name: str,
    label: str | None,
    label_en: str | None,
    required: bool | None,
    choices: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Change field NAME of CLASS: labels, required, choices (its name and type stay)."""
    with runtime.session() as session:
        changed = class_service.edit_field(
            session,
            runtime.actor(session, as_user),
            class_code,
            name,
            label_zh=label,
            label_en=label_en,
            required=required,
            choices=None if choices is None else choices.replace("，", ",").split(","),
        )
        result = as_dict(changed)
    _show(result, f"edited field {name} of", as_json)


@classes.command("retire-field")
@click.argument("class_code", metavar="CLASS")
@click.argument("name")
@click.option("--reason", default="", help="Why (kept with the class's history).")
@as_option
@json_option
@pass_runtime
def retire_field(
    runtime: Runtime, class_code: str, name: str, reason: str, as_user: str | None, as_json: bool
) -> None:
    """Retire field NAME of CLASS: no longer asked for; values and declared records keep it."""
    with runtime.session() as session:
        changed = class_service.retire_field(
            session, runtime.actor(session, as_user), class_code, name, reason
        )
        result = as_dict(changed)
    _show(result, f"retired field {name} of", as_json)
