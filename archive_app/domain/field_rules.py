"""Which fields of a class apply to one document, which it must fill, and how each is checked.

A class's fields (``DocumentClass.required_fields``, declared in
:mod:`archive_app.domain.classes`) may carry rules keyed on a flag field of the same class
(type ``flag``, set when its value is ``yes``): ``unless`` (the field does not apply while
the flag is set), ``only_if`` (it applies only while the flag is set), ``optional_if`` (it
may stay empty while the flag is set), ``text_if`` (any text is valid while the flag is
set) and ``optional`` (it may always stay empty). :func:`applicable_fields` resolves them
against the document's values; the checklist, the edit service and the form all ask it, so
they agree on what a document needs.

A field an administrator retired (``retired``) applies to no document held to that
definition: it is neither asked for nor checked, and a value it already holds is kept as
it is. Definitions made before its retirement still have it as a live field, so a record
declared under one of them keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AppliedField:
    """One field as it applies to one document."""

    name: str
    type: str  # the type its value is checked by, for this document
    required: bool
    label_zh: str
    label_en: str
    spec: Mapping[str, Any]

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self.spec.get("choices") or ())

    def label(self, language: str) -> str:
        return self.label_zh if language.startswith("zh") else self.label_en


def flag_set(values: Mapping[str, Any], name: str) -> bool:
    return str(values.get(name) or "") == "yes"


def applicable_fields(
    specs: Sequence[Mapping[str, Any]], values: Mapping[str, Any]
) -> list[AppliedField]:
    """The fields of ``specs`` that apply given the flag values in ``values``, in order."""
    applied: list[AppliedField] = []
    for spec in specs:
        if spec.get("retired"):
            continue
        if spec.get("unless") and flag_set(values, spec["unless"]):
            continue
        if spec.get("only_if") and not flag_set(values, spec["only_if"]):
            continue
        optional = bool(spec.get("optional")) or (
            bool(spec.get("optional_if")) and flag_set(values, spec["optional_if"])
        )
        lenient = bool(spec.get("text_if")) and flag_set(values, spec["text_if"])
        applied.append(
            AppliedField(
                name=spec["name"],
                type="text" if lenient else spec["type"],
                required=not optional,
                label_zh=spec.get("label_zh", spec["name"]),
                label_en=spec.get("label_en", spec["name"]),
                spec=spec,
            )
        )
    return applied


def field_names(specs: Sequence[Mapping[str, Any]]) -> set[str]:
    """Every field the class declares, whether or not it applies now (retired ones too)."""
    return {spec["name"] for spec in specs}


def live_specs(specs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The fields of a definition that are not retired, in order."""
    return [spec for spec in specs if not spec.get("retired")]


def retired_names(specs: Sequence[Mapping[str, Any]]) -> set[str]:
    return {spec["name"] for spec in specs if spec.get("retired")}
