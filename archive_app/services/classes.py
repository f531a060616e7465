"""Administering the class catalogue: list, create, edit and retire document classes, and
add, edit and retire their fields.

Contract: only a user with ``MANAGE_CLASSES`` (administrators) changes the catalogue;
every change writes a new version of the class's definition
(:mod:`archive_app.services.class_definitions`) and one audit entry with the definition
before and after. A document keeps the version it was filed or declared under, so no
change here invalidates a declared record. Refusals are typed
(:class:`archive_app.errors.ClassDefinitionRefused` and its kinds, ``ClassRetired``) and
carry the value refused. A field's type is one of
:data:`archive_app.domain.fieldtypes.ADMIN_TYPES`; a new field is appended, so the fields a
class already has keep their order.

A field keeps its name and type for life (documents hold values under that name, checked by
that type): an edit changes its labels, whether it is required and a choice field's choices;
retiring marks it ``retired`` in the new definition, so documents filed or edited from then
on no longer ask for it while their values stay. A choice still held by an undeclared
document cannot be removed, and a flag other fields' rules name cannot be retired.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_app.domain.fieldtypes import ADMIN_TYPES
from archive_app.errors import (
    ChoiceInUse,
    ChoicesMissing,
    ChoicesNotAllowed,
    ClassRetired,
    DuplicateClassCode,
    DuplicateField,
    DuplicateNumberCode,
    FieldGovernsOthers,
    FieldRetired,
    InvalidClassCode,
    InvalidFieldName,
    InvalidNumberCode,
    NotFound,
    UnknownField,
    UnknownFieldType,
    UnknownRetentionRule,
    ValidationFailed,
)
from archive_app.models import Document, DocumentClass, User
from archive_app.permissions import Capability, require
from archive_app.services import audit
from archive_app.services.class_definitions import record_version
from archive_app.services.retention.schedule import current_rule_set

_CLASS_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")
_NUMBER_CODE = re.compile(r"[A-Z]{2,4}")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
# ``class`` and ``title`` name the class and title where an edit accepts suggestions.
_RESERVED_FIELDS = {"class", "title"}
# The rules by which one field's applicability follows a flag field (domain.field_rules).
_FLAG_RULES = ("unless", "only_if", "optional_if", "text_if")


def list_classes(
    session: Session, actor: User, *, include_retired: bool = True
) -> list[DocumentClass]:
    require(actor, Capability.VIEW_ARCHIVES)
    query = select(DocumentClass).order_by(DocumentClass.sort_order, DocumentClass.code)
    if not include_retired:
        query = query.where(DocumentClass.active.is_(True))
    return list(session.scalars(query))


def get_class(session: Session, code: str) -> DocumentClass:
    found = session.scalar(select(DocumentClass).where(DocumentClass.code == code))
    if found is None:
        raise NotFound("document class", code)
    return found


def _name(value: str, field: str) -> str:
    name = value.strip()
    if not name:
        raise ValidationFailed({field: "is missing"})
    if len(name) > 100:
        raise ValidationFailed({field: "is longer than 100 characters"})
    return name


def _number_code(session: Session, value: str, own_id: int | None) -> str:
    number_code = value.strip().upper()
    if not _NUMBER_CODE.fullmatch(number_code):
        raise InvalidNumberCode(value)
    holder = session.scalar(select(DocumentClass).where(DocumentClass.number_code == number_code))
    if holder is not None and holder.id != own_id:
        raise DuplicateNumberCode(number_code, holder.code)
    return number_code


def _rule(session: Session, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    rule_set = current_rule_set(session)
    if value.strip() not in rule_set:
        raise UnknownRetentionRule(value, sorted(rule.code for rule in rule_set.rules.values()))
    return value.strip()


def create_class(
    session: Session,
    actor: User,
    *,
    code: str,
    name_zh: str,
    name_en: str | None,
    number_code: str,
    rule: str | None = None,
) -> DocumentClass:
    """A new active class with no fields yet; ``name_en`` defaults to ``name_zh``."""
    require(actor, Capability.MANAGE_CLASSES)
    if not _CLASS_CODE.fullmatch(code):
        raise InvalidClassCode(code)
    if session.scalar(select(DocumentClass.id).where(DocumentClass.code == code)) is not None:
        raise DuplicateClassCode(code)
    name = _name(name_zh, "name")
    document_class = DocumentClass(
        code=code,
        name_zh=name,
        name_en=_name(name_en, "name_en") if name_en else name,
        number_code=_number_code(session, number_code, None),
        retention_rule=_rule(session, rule),
        required_fields=[],
        sort_order=100,
        active=True,
        version=1,
    )
    session.add(document_class)
    session.flush()
    record_version(session, document_class, actor, "created")
    audit.record(
        session,
        actor,
        "class.create",
        "document_class",
        code,
        after=_audited(document_class),
    )
    return document_class


_UNSET: Any = object()


def edit_class(
    session: Session,
    actor: User,
    code: str,
    *,
    name_zh: str | None = None,
    name_en: str | None = None,
    number_code: str | None = None,
    rule: str | None = _UNSET,
) -> DocumentClass:
    """Change the names, number code or retention rule (``rule=None`` or empty: none) of an
    active class; an edit that changes nothing writes no version."""
    require(actor, Capability.MANAGE_CLASSES)
    document_class = _active(session, code)
    before = _audited(document_class)
    if name_zh is not None:
        document_class.name_zh = _name(name_zh, "name")
    if name_en is not None:
        document_class.name_en = _name(name_en, "name_en")
    if number_code is not None:
        document_class.number_code = _number_code(session, number_code, document_class.id)
    if rule is not _UNSET:
        document_class.retention_rule = _rule(session, rule)
    return _new_version(session, actor, document_class, before, "class.edit", "edited")


def retire_class(session: Session, actor: User, code: str, reason: str = "") -> DocumentClass:
    """No new document is filed under the class; its documents keep it."""
    require(actor, Capability.MANAGE_CLASSES)
    document_class = _active(session, code)
    if code == "other":
        raise ValidationFailed({"code": "other is where unclassified documents go"})
    before = _audited(document_class)
    document_class.active = False
    return _new_version(
        session, actor, document_class, before, "class.retire", reason.strip() or "retired"
    )


def add_field(
    session: Session,
    actor: User,
    class_code: str,
    *,
    name: str,
    field_type: str,
    required: bool = False,
    choices: Sequence[str] = (),
    label_zh: str | None = None,
    label_en: str | None = None,
) -> DocumentClass:
    """Append a field; unless ``required`` it may stay empty. A ``choice`` field needs at
    least two distinct ``choices`` and no other type takes any."""
    require(actor, Capability.MANAGE_CLASSES)
    document_class = _active(session, class_code)
    if not _FIELD_NAME.fullmatch(name) or name in _RESERVED_FIELDS:
        raise InvalidFieldName(name)
    if any(spec["name"] == name for spec in document_class.required_fields):
        raise DuplicateField(name, class_code)
    if field_type not in ADMIN_TYPES:
        raise UnknownFieldType(field_type, ADMIN_TYPES)
    values = _choices(field_type, choices)
    label = _name(label_zh, "label") if label_zh else name
    spec: dict[str, Any] = {
        "name": name,
        "type": field_type,
        "label_zh": label,
        "label_en": _name(label_en, "label_en") if label_en else label,
    }
    if not required:
        spec["optional"] = True
    if values:
        spec["choices"] = values
    before = _audited(document_class)
    document_class.required_fields = [*document_class.required_fields, spec]
    return _new_version(
        session, actor, document_class, before, "class.field.add", f"field {name} added"
    )


def edit_field(
    session: Session,
    actor: User,
    class_code: str,
    name: str,
    *,
    label_zh: str | None = None,
    label_en: str | None = None,
    required: bool | None = None,
    choices: Sequence[str] | None = None,
) -> DocumentClass:
    """Change a live field's labels, whether it is required, or (a choice field) its
    choices; ``None`` leaves that part as it is. An edit that changes nothing writes no
    version."""
    require(actor, Capability.MANAGE_CLASSES)
    document_class = _active(session, class_code)
    specs = [dict(spec) for spec in document_class.required_fields]
    spec = _live_field(specs, name, class_code)
    if label_zh is not None:
        spec["label_zh"] = _name(label_zh, "label")
    if label_en is not None:
        spec["label_en"] = _name(label_en, "label_en")
    if required is not None:
        spec.pop("optional", None)
        if not required:
            spec["optional"] = True
    if choices is not None:
        values = _choices(spec["type"], choices)
        removed = [value for value in spec.get("choices") or () if value not in values]
        for value in removed:
            holders = _undeclared_holding(session, document_class, name, value)
            if holders:
                raise ChoiceInUse(value, holders)
        if values:
            spec["choices"] = values
    before = _audited(document_class)
    document_class.required_fields = specs
    return _new_version(
        session, actor, document_class, before, "class.field.edit", f"field {name} edited"
    )


def retire_field(
    session: Session, actor: User, class_code: str, name: str, reason: str = ""
) -> DocumentClass:
    """Documents filed or edited from now on no longer ask for or check the field; the
    values documents hold stay, and records declared before keep it in their definition."""
    require(actor, Capability.MANAGE_CLASSES)
    document_class = _active(session, class_code)
    specs = [dict(spec) for spec in document_class.required_fields]
    spec = _live_field(specs, name, class_code)
    governed = [
        other["name"]
        for other in specs
        if not other.get("retired") and any(other.get(rule) == name for rule in _FLAG_RULES)
    ]
    if governed:
        raise FieldGovernsOthers(name, governed)
    spec["retired"] = True
    before = _audited(document_class)
    document_class.required_fields = specs
    return _new_version(
        session,
        actor,
        document_class,
        before,
        "class.field.retire",
        reason.strip() or f"field {name} retired",
    )


def _live_field(specs: list[dict[str, Any]], name: str, class_code: str) -> dict[str, Any]:
    spec = next((spec for spec in specs if spec["name"] == name), None)
    if spec is None:
        raise UnknownField(name, class_code)
    if spec.get("retired"):
        raise FieldRetired(name)
    return spec


def _choices(field_type: str, choices: Sequence[str]) -> list[str]:
    """The distinct non-empty choices, refused unless the type is ``choice`` with two."""
    values = list(dict.fromkeys(choice.strip() for choice in choices if choice.strip()))
    if field_type == "choice" and len(values) < 2:
        raise ChoicesMissing(",".join(values))
    if field_type != "choice" and values:
        raise ChoicesNotAllowed(",".join(values), field_type)
    return values


def _undeclared_holding(
    session: Session, document_class: DocumentClass, name: str, value: str
) -> int:
    """Undeclared documents of the class whose field ``name`` is ``value``: they are checked
    against the current definition when next edited or declared (values are JSON, so the
    comparison is made here rather than in SQL, the same way on every database)."""
    query = select(Document.fields).where(
        Document.class_id == document_class.id,
        Document.declared_at.is_(None),
        Document.destroyed_at.is_(None),
    )
    return sum(1 for fields in session.scalars(query) if (fields or {}).get(name) == value)


def _active(session: Session, code: str) -> DocumentClass:
    document_class = get_class(session, code)
    if not document_class.active:
        raise ClassRetired(code)
    return document_class


def _audited(document_class: DocumentClass) -> dict[str, Any]:
    return {"version": document_class.version, **document_class.definition()}


def _new_version(
    session: Session,
    actor: User,
    document_class: DocumentClass,
    before: dict[str, Any],
    action: str,
    reason: str,
) -> DocumentClass:
    if {**before, "version": document_class.version} == _audited(document_class):
        return document_class
    document_class.version += 1
    session.flush()
    record_version(session, document_class, actor, reason)
    audit.record(
        session,
        actor,
        action,
        "document_class",
        document_class.code,
        before=before,
        after=_audited(document_class),
    )
    return document_class
