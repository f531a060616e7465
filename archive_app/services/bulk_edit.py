"""Bulk edit: one change of class, field values and tags applied to many documents.

Each record is changed on its own (a savepoint per record) with the same checks as a
single edit: the record must be visible to the actor, its metadata editable by them
(declared records by compliance or admins only), not held, not destroyed. A record that
refuses any part of the change keeps all of it unchanged and is reported with the reason;
the others are changed. Every record gets exactly one audit entry: ``document.bulk_edit``
with the values before and after (tags included) when it changed, or the same action with
outcome ``refused`` and the reason when it was refused. Unchanged records (already as
asked) get none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from archive_app.errors import AppError, ValidationFailed
from archive_app.models import User
from archive_app.services import audit
from archive_app.services.documents import (
    Edit,
    apply_edit,
    editable_snapshot,
    get_visible,
    record_change,
)
from archive_app.services.tags import change_tags, clean_tags, tags_of

ACTION = "document.bulk_edit"
MAX_DOCUMENTS = 1000


@dataclass
class BulkOutcome:
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # number -> reason

    def as_json(self) -> dict[str, object]:
        return {"changed": self.changed, "unchanged": self.unchanged, "refused": self.refused}


def bulk_edit(
    session: Session,
    actor: User,
    numbers: Iterable[str],
    *,
    class_code: str | None = None,
    values: dict[str, str] | None = None,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
) -> BulkOutcome:
    selection = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
    if not selection:
        raise ValidationFailed({"documents": "none selected"})
    if len(selection) > MAX_DOCUMENTS:
        raise ValidationFailed({"documents": f"at most {MAX_DOCUMENTS} at once"})
    to_add, to_remove = clean_tags(add_tags), clean_tags(remove_tags)
    if class_code is None and not values and not to_add and not to_remove:
        raise ValidationFailed({"change": "nothing to change"})
    outcome = BulkOutcome()
    for number in selection:
        try:
            with session.begin_nested():
                changed = _edit_one(
                    session, actor, number, class_code, dict(values or {}), to_add, to_remove
                )
        except AppError as error:
            outcome.refused[number] = str(error)
            audit.record(
                session,
                actor,
                ACTION,
                "document",
                number,
                after={"reason": str(error)},
                outcome="refused",
            )
            continue
        (outcome.changed if changed else outcome.unchanged).append(number)
    return outcome


def _edit_one(
    session: Session,
    actor: User,
    number: str,
    class_code: str | None,
    values: dict[str, str],
    add: list[str],
    remove: list[str],
) -> bool:
    document = get_visible(session, actor, number)
    before = editable_snapshot(document)
    tags_before = tags_of(session, document)
    if class_code is not None or values:
        apply_edit(session, actor, document, Edit(class_code, None, values))
    tags_after = tags_before
    if add or remove:
        tags_after = change_tags(session, actor, document, add=add, remove=remove, audited=False)[1]
    return record_change(
        session,
        actor,
        document,
        before,
        action=ACTION,
        extra_before={"tags": tags_before},
        extra_after={"tags": tags_after},
    )
