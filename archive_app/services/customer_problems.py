"""What is wrong with one customer value or one row of the customer information table.

Contract: a :class:`FieldProblem` is a stable ``code`` and the ``data`` its sentence needs
(a length limit, the line a row repeats, the check digit a tax ID should end with). Its
``str()`` is the English sentence the command line, the JSON reports and ``ValidationFailed``
carry; a page in another language says it again from the code and the data (see
``archive_app/web/customer_problems.py``), so every code here has a sentence there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENGLISH: Mapping[str, str] = {
    "required": "is required",
    "too_long": "is longer than {limit} characters",
    "bad_type": "must be company or person",
    "bad_level": "must be one of {levels}",
    "above_clearance": "is above your own clearance",
    "tax_id_format": "{value} is not an 18-character unified social credit code",
    "tax_id_check_digit": "check digit of {value} should be {expected}",
    "too_many_tags": "are more than {limit}",
    "tag_too_long": "each must be at most {limit} characters",
    "bad_date": "must be a date as YYYY-MM-DD",
    "extra_cells": "has more cells than the header has columns",
    "repeats_line": "repeats line {line}",
    "ambiguous_name": "matches {count} archives of that name; give the tax ID to choose one",
    "other_tax_id": "an archive of this name has another tax ID",
    "not_yours": "matches an existing archive you may not change",
}


@dataclass(frozen=True)
class FieldProblem:
    code: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return ENGLISH[self.code].format(**self.data)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "data": dict(self.data)}


def english(problems: Mapping[str, FieldProblem]) -> dict[str, str]:
    """The problems as field → English sentence (what ``ValidationFailed`` carries)."""
    return {name: str(problem) for name, problem in problems.items()}
