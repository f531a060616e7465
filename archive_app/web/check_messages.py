"""The text reader's failed checks on a suggestion, in the user's language.

Contract: :func:`check_text` turns one stored problem of a suggestion (``{"code": ...,
"data": {figures}}``, written from ``indexing.extract.checks.Problem``) into a sentence. A problem
stored as plain English text, before checks carried codes, is shown as it was stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _


def check_text(problem: Mapping[str, Any] | str) -> str:
    if isinstance(problem, str):
        return problem
    code = problem.get("code")
    data = {key: str(value) for key, value in (problem.get("data") or {}).items()}
    if code == "uscc_format":
        return _("%(code)s is not an 18-character unified social credit code", **data)
    if code == "uscc_check_digit":
        return _("the check digit of %(code)s should be %(expected)s", **data)
    if code == "sum":
        return _("amount %(net)s + tax %(tax)s = %(sum)s, not the total %(total)s", **data)
    if code == "words":
        return _("the amount in words (%(words)s) differs from the figure (%(figure)s)", **data)
    if code == "date_too_early":
        return _("%(date)s is before 1990", **data)
    if code == "date_too_late":
        return _("%(date)s is after 2100", **data)
    if code == "date_future":
        return _("%(date)s is in the future", **data)
    return _("a check on this value failed")
