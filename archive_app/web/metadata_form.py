"""The document page's metadata form, as the page shows it: every live field the class
declares (those that do not apply to this document, by the class's flag rules, hidden; the
values of retired fields listed apart, read-only), the version of the class definition the
document is held to, the saved value of each, what the filing checklist finds missing or
wrong in it, and the suggestion from the text that is not saved yet, with the reason it
cannot be accepted as it is.

Saved values and suggestions never mix: an input shows only what is saved (or what the
user just typed), a suggestion stands beside it until it is accepted, and the field counts
as missing, here and in the checklist, until then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive_app.domain.field_rules import AppliedField, applicable_fields, flag_set
from archive_app.domain.fieldtypes import normalise
from archive_app.models import Document, DocumentClass
from archive_app.services.checklist import check_document
from archive_app.web.check_messages import check_text
from archive_app.web.checklist import PROBLEM_MESSAGES

ACCEPT_ALL = "*"


@dataclass(frozen=True)
class Suggestion:
    value: str
    snippet: str
    confidence: float
    checks: list[str]  # why the reading trusts it less (the extraction's own checks)
    refusal: str | None  # why it cannot be accepted as it is, in the user's language
    refusal_if_flag: str | None  # the same while a ``text_if`` flag is set


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    type: str
    applies: bool
    required: bool
    value: str
    # unless / only_if: the flag that shows or hides the row; optional_if / text_if: the flag
    # that relaxes it (the browser shows the relaxed state while that flag is ticked)
    rules: dict[str, str]
    relaxed: bool  # its optional_if / text_if flag is set now
    problem: str | None  # the checklist's word on the saved value, or the refused input
    missing: bool
    suggestion: Suggestion | None
    choices: tuple[str, ...] = ()  # a choice field's values (offered as a list)


@dataclass(frozen=True)
class RetiredValue:
    """A value the document holds in a field its class has retired: kept, not checked."""

    name: str
    label: str
    value: str


@dataclass
class MetadataForm:
    title: str
    title_problem: str | None
    title_suggestion: Suggestion | None
    class_suggestion: DocumentClass | None
    class_problem: str | None
    # The version of the class definition the document is held to, and the class's current
    # one (they differ for a record declared before the class changed, or a draft not edited
    # since).
    class_version: int | None = None
    class_current_version: int = 1
    rows: list[Row] = field(default_factory=list)
    retired: list[RetiredValue] = field(default_factory=list)

    @property
    def pending(self) -> int:
        """Suggestions not saved yet (the page offers to accept them all)."""
        count = sum(1 for row in self.rows if row.applies and row.suggestion)
        return count + bool(self.title_suggestion) + bool(self.class_suggestion)


_RULES = ("unless", "only_if", "optional_if", "text_if")


def message(text: str) -> str:
    """A service's English problem message in the user's language."""
    return str(PROBLEM_MESSAGES.get(text, text))


def _refusal(field_type: str, value: str, choices: tuple[str, ...]) -> str | None:
    try:
        normalise(field_type, value, choices)
    except ValueError as error:
        return message(str(error))
    return None


def _suggestion(
    entry: dict[str, Any] | None,
    field_type: str,
    choices: tuple[str, ...],
    *,
    text_if: bool = False,
) -> Suggestion | None:
    """``text_if``: the field takes any text while its flag is set; the page then tells the
    refusal under each state of the flag, and the browser shows the one that holds."""
    if not entry or not str(entry.get("value") or "").strip():
        return None
    value = str(entry["value"])
    refusal = _refusal(field_type, value, choices)
    return Suggestion(
        value=value,
        snippet=str(entry.get("snippet") or ""),
        confidence=float(entry.get("confidence") or 0),
        checks=[check_text(problem) for problem in entry.get("problems") or []],
        refusal=refusal,
        refusal_if_flag=_refusal("text", value, ()) if text_if else refusal,
    )


def _when_shown(
    specs: list[dict[str, Any]], values: dict[str, Any], spec: dict[str, Any]
) -> AppliedField:
    flipped = dict(values)
    if spec.get("only_if"):
        flipped[spec["only_if"]] = "yes"
    if spec.get("unless"):
        flipped[spec["unless"]] = "no"
    return next(field for field in applicable_fields(specs, flipped) if field.name == spec["name"])


def build(
    document: Document,
    suggestions: dict[str, Any],
    classes: list[DocumentClass],
    language: str,
    *,
    submitted: dict[str, str] | None = None,
    submitted_title: str | None = None,
    errors: dict[str, str] | None = None,
) -> MetadataForm:
    """The form for ``document``; after a refused save, ``submitted`` and
    ``submitted_title`` hold what the user typed and ``errors`` why each value was refused."""
    submitted = submitted or {}
    errors = errors or {}
    saved = dict(document.fields or {})
    shown = {**saved, **submitted}
    checks = {problem.field: problem for problem in check_document(document)}
    applied = {row.name: row for row in applicable_fields(document.field_specs, shown)}
    suggested_fields = suggestions.get("fields") or {}
    rows = []
    retired = []
    specs = document.field_specs
    for spec in specs:
        name = spec["name"]
        label = spec["label_zh"] if language.startswith("zh") else spec["label_en"]
        if spec.get("retired"):
            if saved.get(name):
                retired.append(RetiredValue(name, label, str(saved[name])))
            continue
        current = applied.get(name)
        # A hidden row is shown in the browser when its flag changes: say whether it is
        # required as it would be then.
        when_shown = current or _when_shown(specs, shown, spec)
        check = checks.get(name)
        problem = errors.get(name)
        rows.append(
            Row(
                name=name,
                label=label,
                type=spec["type"],
                applies=current is not None,
                required=when_shown.required,
                value=str(shown.get(name) or ""),
                rules={rule: spec[rule] for rule in _RULES if spec.get(rule)},
                relaxed=any(
                    spec.get(rule) and flag_set(shown, spec[rule])
                    for rule in ("optional_if", "text_if")
                ),
                problem=message(problem)
                if problem
                else (message(check.message) if check else None),
                missing=bool(check and check.code == "missing"),
                suggestion=None
                if saved.get(name) or current is None
                else _suggestion(
                    suggested_fields.get(name),
                    spec["type"],
                    current.choices,
                    text_if=bool(spec.get("text_if")),
                ),
                choices=tuple(spec.get("choices") or ()),
            )
        )
    suggested_class = (suggestions.get("class") or {}).get("value")
    if "title" in errors:
        title_problem: str | None = message(errors["title"])
    else:
        title_problem = str(PROBLEM_MESSAGES["is missing"]) if "title" in checks else None
    return MetadataForm(
        title=document.title if submitted_title is None else submitted_title,
        title_problem=title_problem,
        title_suggestion=None
        if document.title
        else _suggestion(suggestions.get("title"), "text", ()),
        class_suggestion=next(
            (c for c in classes if c.code == suggested_class and c.id != document.class_id), None
        ),
        class_problem=errors.get("class"),
        class_version=document.class_version,
        class_current_version=document.document_class.version,
        rows=rows,
        retired=retired,
    )
