"""The customer problems (:mod:`archive_app.services.customer_problems`) said in the
user's language: one sentence per code, filled in with the problem's data."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from archive_app.services.customer_problems import FieldProblem

SENTENCES = {
    "required": _l("is required"),
    "too_long": _l("is longer than %(limit)s characters"),
    "bad_type": _l("must be company or person"),
    "bad_level": _l("must be one of %(levels)s"),
    "above_clearance": _l("is above your own clearance"),
    "tax_id_format": _l("%(value)s is not an 18-character unified social credit code"),
    "tax_id_check_digit": _l("check digit of %(value)s should be %(expected)s"),
    "too_many_tags": _l("are more than %(limit)s"),
    "tag_too_long": _l("each must be at most %(limit)s characters"),
    "bad_date": _l("must be a date as YYYY-MM-DD"),
    "extra_cells": _l("has more cells than the header has columns"),
    "repeats_line": _l("repeats line %(line)s"),
    "ambiguous_name": _l("matches %(count)s archives of that name; give the tax ID to choose one"),
    "other_tax_id": _l("an archive of this name has another tax ID"),
    "not_yours": _l("matches an existing archive you may not change"),
}


def say(problem: FieldProblem) -> str:
    return str(SENTENCES[problem.code]) % dict(problem.data)
