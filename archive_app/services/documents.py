"""Documents after intake: view, list, edit metadata, read text, export, retry.

Every view, text read and download is audited. Content is only ever read from the
encrypted store; exports write the decrypted bytes to the caller's stream.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_app.domain.field_rules import (
    applicable_fields,
    field_names,
    live_specs,
    retired_names,
)
from archive_app.domain.fieldtypes import normalise
from archive_app.domain.reading import Reading, load_reading
from archive_app.errors import Conflict, ValidationFailed
from archive_app.infra.container import Container
from archive_app.models import CustomerArchive, Document, DocumentClass, DocumentStatus, User
from archive_app.models.base import utcnow
from archive_app.permissions import (
    Capability,
    require,
    require_archive_visible,
    require_edit_metadata,
    require_record,
    visible_levels,
)
from archive_app.search import updates as search_updates
from archive_app.services import audit, claims
from archive_app.services.bootstrap import active_class
from archive_app.services.class_definitions import current_definition
from archive_app.services.declaration import withdraw_changed_line
from archive_app.services.retention.errors import RecordDestroyed
from archive_app.services.retention.holds import ensure_changeable, ensure_not_being_destroyed

EXPORT_KINDS = ("original", "pdf")
MAX_ROW_ID = 2**63 - 1


def get_visible(session: Session, actor: User, number: str) -> Document:
    require(actor, Capability.VIEW_ARCHIVES)
    document = session.scalar(select(Document).where(Document.number == number.strip()))
    require_record(session, actor, document, number)
    assert document is not None
    return document


def view_document(session: Session, actor: User, number: str) -> Document:
    document = get_visible(session, actor, number)
    audit.record(session, actor, "document.view", "document", document.number)
    return document


def list_for_archive(session: Session, actor: User, archive: CustomerArchive) -> list[Document]:
    require(actor, Capability.VIEW_ARCHIVES)
    require_archive_visible(actor, archive, archive.number)
    return list(
        session.scalars(
            select(Document).where(Document.archive_id == archive.id).order_by(Document.id)
        )
    )


def status_of(session: Session, actor: User, ids: list[int]) -> list[Document]:
    """Light-weight progress polling: the documents among ``ids`` the actor may see."""
    require(actor, Capability.VIEW_ARCHIVES)
    ids = [i for i in ids if 0 < i <= MAX_ROW_ID]  # larger ones name no row on any database
    if not ids:
        return []
    rows = session.scalars(
        select(Document)
        .join(CustomerArchive, Document.archive_id == CustomerArchive.id)
        .where(Document.id.in_(ids[:500]), CustomerArchive.level.in_(visible_levels(actor)))
    )
    return list(rows)


def document_counts(session: Session, archive_ids: list[int]) -> dict[int, int]:
    if not archive_ids:
        return {}
    rows = session.execute(
        select(Document.archive_id, func.count(Document.id))
        .where(Document.archive_id.in_(archive_ids))
        .group_by(Document.archive_id)
    )
    return {archive_id: count for archive_id, count in rows}


def read_reading(container: Container, session: Session, actor: User, number: str) -> Reading:
    """The document's reading (decrypted): text, engine and confidence per page, and the
    suggested metadata; audited as a view of the content."""
    document = get_visible(session, actor, number)
    ensure_not_being_destroyed(session, document)
    if document.text_object_id is None:
        return Reading(pages=[])
    audit.record(session, actor, "document.read_text", "document", document.number)
    return _stored_reading(container, document)


def read_text(
    container: Container, session: Session, actor: User, number: str
) -> list[dict[str, Any]]:
    """The extracted text per page (decrypted), audited as a view of the content."""
    return read_reading(container, session, actor, number).pages


def _stored_reading(container: Container, document: Document) -> Reading:
    if document.text_object_id is None:
        return Reading(pages=[])
    raw = container.store.read_bytes(document.archive.storage_id, document.text_object_id)
    return load_reading(raw)


@dataclass(frozen=True)
class ExportHandle:
    filename: str
    mime_type: str
    size: int | None
    storage_id: str
    object_id: str


def get_content_visible(session: Session, actor: User, number: str) -> Document:
    """The document whose content the actor may read now (a download, a page image): refused
    when it is not visible, destroyed, or being destroyed."""
    document = get_visible(session, actor, number)
    if document.is_destroyed:
        raise RecordDestroyed(document.number)
    ensure_not_being_destroyed(session, document)
    return document


def prepare_export(session: Session, actor: User, number: str, kind: str) -> ExportHandle:
    if kind not in EXPORT_KINDS:
        raise ValidationFailed({"kind": f"must be one of {', '.join(EXPORT_KINDS)}"})
    document = get_content_visible(session, actor, number)
    if kind == "original":
        object_id, mime, size, name = (
            document.original_object_id,
            document.mime_type,
            document.size_bytes,
            document.original_filename,
        )
    else:
        object_id, mime, size = document.rendition_object_id, "application/pdf", None
        name = f"{document.number}.pdf"
    if object_id is None:
        raise Conflict(
            f"document {document.number} has no {kind} yet (status: {document.status.value})"
        )
    audit.record(session, actor, f"document.download_{kind}", "document", document.number)
    return ExportHandle(name, mime, size, document.archive.storage_id, object_id)


def stream_export(container: Container, handle: ExportHandle) -> Iterator[bytes]:
    with container.store.open_object(handle.storage_id, handle.object_id) as reader:
        while chunk := reader.read(256 * 1024):
            yield chunk


def export_to(container: Container, handle: ExportHandle, out: BinaryIO) -> int:
    written = 0
    for chunk in stream_export(container, handle):
        out.write(chunk)
        written += len(chunk)
    return written


@dataclass(frozen=True)
class Edit:
    """What an edit asks for: class, title and typed values, and which suggestions from the
    text to take (see :func:`edit_document`)."""

    class_code: str | None = None
    title: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    accept: frozenset[str] = frozenset()
    accept_suggestions: bool = False
    drop_inapplicable: bool = False


def edit_document(
    session: Session,
    actor: User,
    number: str,
    *,
    class_code: str | None = None,
    title: str | None = None,
    values: dict[str, str] | None = None,
    accept_suggestions: bool = False,
    accept: Collection[str] = (),
    drop_inapplicable: bool = False,
    container: Container | None = None,
) -> Document:
    """Change class, title and class fields; nothing changes when any value is refused
    (:class:`ValidationFailed` names each field).

    A class change keeps the values of the fields both classes share; the new class's
    other fields stay empty, for the checklist to ask for. Values are checked by field type
    and by the class's rules (:mod:`archive_app.domain.field_rules`). Suggestions from the
    text count as values only once accepted: ``accept`` names the ones to take (``class``,
    ``title`` or field names; each replaces what ``values`` gives for it and is checked
    like a typed value), ``accept_suggestions`` takes every suggestion for whatever is
    still empty after the edit, leaving those that fail their check as suggestions. They
    are read from the encrypted reading, so accepting needs the ``container``.
    ``drop_inapplicable`` is for forms, which show the fields of the class and flags they
    were drawn with: given values of fields that do not apply after the edit are dropped
    instead of refused."""
    document = get_visible(session, actor, number)
    require_edit_metadata(actor, document)
    ensure_changeable(session, document)
    edit = Edit(
        class_code,
        title,
        dict(values or {}),
        frozenset(accept),
        accept_suggestions,
        drop_inapplicable,
    )
    suggested: dict[str, Any] = {}
    if edit.accept_suggestions or edit.accept:
        if container is None:
            raise ValueError("accepting suggestions needs the container (the encrypted store)")
        suggested = _stored_reading(container, document).suggestions
    before = editable_snapshot(document)
    apply_edit(session, actor, document, edit, suggested)
    record_change(session, actor, document, before)
    return document


def apply_edit(
    session: Session,
    actor: User,
    document: Document,
    edit: Edit,
    suggested: dict[str, Any] | None = None,
) -> None:
    """Check and apply an edit to a document the actor may see, without auditing it
    (:func:`record_change` does): nothing changes if a value is refused. ``suggested``: the
    suggestions of the document's reading, needed when the edit accepts any."""
    require_edit_metadata(actor, document)
    ensure_changeable(session, document)
    suggested = suggested or {}
    explicit = set(edit.accept)
    accept_suggestions = edit.accept_suggestions
    class_code, title = edit.class_code, edit.title
    problems: dict[str, str] = {}
    suggested_class = (suggested.get("class") or {}).get("value")
    if suggested_class and ("class" in explicit or (accept_suggestions and class_code is None)):
        class_code = suggested_class
    new_class = document.document_class
    if class_code is not None and class_code != new_class.code:
        new_class = active_class(session, class_code)
    suggested_title = (suggested.get("title") or {}).get("value")
    if suggested_title and (
        "title" in explicit
        or (accept_suggestions and not (title or "").strip() and not document.title)
    ):
        title = suggested_title[:500]
    new_title = _checked_title(title, problems)
    given = dict(edit.values)
    suggested_fields = suggested.get("fields") or {}
    if "class" in explicit and not suggested_class:
        problems["class"] = "has no suggestion to accept"
    if "title" in explicit and not suggested_title:
        problems["title"] = "has no suggestion to accept"
    for name in sorted(explicit - {"class", "title"}):
        if name in suggested_fields:
            given[name] = str(suggested_fields[name]["value"])
        else:
            problems[name] = "has no suggestion to accept"
    fields = _checked_fields(document, new_class, given, problems, edit.drop_inapplicable)
    if accept_suggestions:
        _fill_from_suggestions(document, fields, new_class, suggested_fields)
    if problems:
        raise ValidationFailed(problems)
    _apply(session, document, new_class, new_title, fields)


def _checked_title(title: str | None, problems: dict[str, str]) -> str | None:
    if title is None:
        return None
    if len(title.strip()) > 500:
        problems["title"] = "is longer than 500 characters"
        return None
    return title.strip()


def _checked_fields(
    document: Document,
    new_class: DocumentClass,
    proposed: dict[str, str],
    problems: dict[str, str],
    drop_inapplicable: bool,
) -> dict[str, str]:
    """The document's fields under ``new_class`` with ``proposed`` values (an empty value
    clears the field) normalised by the type that applies; each refused value is named in
    ``problems``. Kept values are not checked again: a value the new class finds invalid
    stays, for the checklist to point at."""
    specs = _held_to(document, new_class)
    declared = field_names(specs)
    retired = retired_names(specs)
    merged = {name: value for name, value in (document.fields or {}).items() if name in declared}
    for name, raw in proposed.items():
        if name not in declared:
            if not drop_inapplicable:
                known = ", ".join(sorted(field_names(live_specs(specs)))) or "none"
                problems[name] = f"is not a field of class {new_class.code} (fields: {known})"
        elif name in retired:
            # A form made under the definition before still sends the field: unchanged, it
            # is no edit of it.
            if raw.strip() != str(merged.get(name) or "") and not drop_inapplicable:
                problems[name] = "is a retired field"
        elif raw.strip() == "":
            merged.pop(name, None)
        else:
            merged[name] = raw
    # Flags first: they decide which of the other fields apply.
    for spec in specs:
        name = spec["name"]
        if spec["type"] == "flag" and name in proposed and name in merged:
            try:
                merged[name] = normalise("flag", merged[name])
            except ValueError as error:
                problems[name] = str(error)
                merged.pop(name)
                continue
            if merged[name] == "no":
                merged.pop(name)  # an unset flag is no value (a form sends "no" for it)
    applied = {field.name: field for field in applicable_fields(specs, merged)}
    fields: dict[str, str] = {}
    for name, raw in merged.items():
        if name in retired:
            fields[name] = raw  # kept as it was, no longer asked for or checked
            continue
        if name not in applied:
            if name in proposed and not drop_inapplicable:
                problems[name] = "does not apply to this document"
            continue
        if name not in proposed:
            fields[name] = raw
            continue
        try:
            fields[name] = normalise(applied[name].type, raw, applied[name].choices)
        except ValueError as error:
            problems[name] = str(error)
    return fields


def _held_to(document: Document, new_class: DocumentClass) -> list[dict[str, Any]]:
    """The fields an edit is checked by: a declared record keeps the class definition it
    was declared under until its class is changed; anything else follows the current one."""
    if document.is_declared and new_class.id == document.class_id:
        return document.field_specs
    return list(new_class.required_fields)


def _fill_from_suggestions(
    document: Document,
    fields: dict[str, str],
    new_class: DocumentClass,
    suggested: dict[str, Any],
) -> None:
    """Every valid suggestion for an applicable field that is still empty."""
    for applied in applicable_fields(_held_to(document, new_class), fields):
        entry = suggested.get(applied.name)
        if entry is None or fields.get(applied.name):
            continue
        try:
            fields[applied.name] = normalise(applied.type, str(entry["value"]), applied.choices)
        except ValueError:
            continue  # stays a suggestion; the page says why it does not pass


def _apply(
    session: Session,
    document: Document,
    new_class: DocumentClass,
    title: str | None,
    fields: dict[str, str],
) -> None:
    if title is not None:
        document.title = title
    if not document.is_declared or new_class.id != document.class_id:
        document.class_definition = current_definition(session, new_class)
    document.class_id = new_class.id
    document.document_class = new_class
    document.fields = fields
    document.document_date = _first_date(fields) or document.document_date
    if "amount" in fields:
        document.amount = Decimal(fields["amount"])


def record_change(
    session: Session,
    actor: User,
    document: Document,
    before: dict[str, Any],
    *,
    action: str | None = None,
    extra_before: dict[str, Any] | None = None,
    extra_after: dict[str, Any] | None = None,
) -> bool:
    """Audit (one entry), reindex and withdraw the checklist line of what an edit changed,
    if anything; ``extra_*`` add values that are not metadata (a bulk edit's tags).
    Returns whether anything changed."""
    after = editable_snapshot(document)
    metadata_changed = [
        key for key in before.keys() | after.keys() if before.get(key) != after.get(key)
    ]
    before, after = before | (extra_before or {}), after | (extra_after or {})
    changed = sorted(
        key for key in before.keys() | after.keys() if before.get(key) != after.get(key)
    )
    if not changed:
        return False
    if metadata_changed:
        document.updated_at = utcnow()
        withdraw_changed_line(document)
    search_updates.reindex(session, documents=[document.id])
    audit.record(
        session,
        actor,
        action or ("document.amend_declared" if document.is_declared else "document.update"),
        "document",
        document.number,
        before={key: before.get(key) for key in changed},
        after={key: after.get(key) for key in changed},
    )
    return True


def _first_date(fields: dict[str, str]) -> date | None:
    for name in ("document_date", "invoice_date", "sign_date"):
        if name in fields:
            return date.fromisoformat(fields[name])
    return None


def editable_snapshot(document: Document) -> dict[str, Any]:
    return {
        "class": document.document_class.code,
        "title": document.title,
        **{f"field:{name}": value for name, value in document.fields.items()},
    }


def retry_document(
    container: Container, session: Session, actor: User, number: str, *, force: bool = False
) -> Document:
    """Queue a failed document again (or, with ``force``, one stuck in processing after
    its worker died)."""
    require(actor, Capability.FILE_DOCUMENTS)
    document = get_visible(session, actor, number)
    allowed_states = {DocumentStatus.FAILED} | (
        {DocumentStatus.PROCESSING, DocumentStatus.QUEUED} if force else set()
    )
    if document.status not in allowed_states:
        hint = "" if force else " (use --force for a document stuck in processing)"
        raise Conflict(
            f"document {document.number} is {document.status.value}; only failed documents can be retried{hint}"
        )
    claims.drop(document)  # a forced retry supersedes whatever run holds it
    document.status = DocumentStatus.QUEUED
    document.failure_reason = None
    document.interruptions = 0
    document.updated_at = utcnow()
    audit.record(session, actor, "document.retry", "document", document.number)
    return document
