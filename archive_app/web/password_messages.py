"""A refused password in the reader's language: each rule's code (from
:class:`archive_app.errors.PasswordRefused`) to the message shown under its field."""

from __future__ import annotations

from flask_babel import gettext as _

from archive_app.domain.password_policy import MIN_LENGTH, Weakness
from archive_app.errors import PasswordRefused
from archive_app.services.passwords import UNCHANGED, WRONG_CURRENT


def messages(error: PasswordRefused, *, own: bool) -> dict[str, list[str]]:
    """Field name (``current_password`` or ``password``) to its messages."""
    texts = {
        WRONG_CURRENT: _("This is not your current password."),
        Weakness.TOO_SHORT.value: _(
            "The new password must be at least %(count)d characters long.", count=MIN_LENGTH
        ),
        Weakness.CONTAINS_USERNAME.value: (
            _("The new password must not contain your user name.")
            if own
            else _("The new password must not contain the user name.")
        ),
        Weakness.COMMON.value: _(
            "The new password is one of the most common passwords: choose another."
        ),
        UNCHANGED: _("The new password must differ from the current one."),
    }
    found: dict[str, list[str]] = {}
    for reason in error.reasons:
        field = "current_password" if reason == WRONG_CURRENT else "password"
        found.setdefault(field, []).append(texts[reason])
    return found
