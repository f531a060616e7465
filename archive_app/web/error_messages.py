"""An error said in the user's language, from the data the typed error carries.

Contract: :func:`explain` returns one sentence for a page or a flash message. The services
word their errors in English for logs and the command line, and English pages show those
words; on a page in another language a typed error the web shows often is said again here
from its attributes, and any other by what its HTTP status means.
"""

from __future__ import annotations

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from archive_app.errors import (
    AppError,
    AuthenticationFailed,
    ClearanceInsufficient,
    InspectionRunning,
    NotFound,
    PermissionDenied,
    RecordRestricted,
    UnknownDocumentClass,
    UsernameTaken,
    YearEndAlreadySignedOff,
)
from archive_app.services.checklist import SelfReviewRefused
from archive_app.services.retention.errors import (
    BeingDestroyed,
    BelowMinimum,
    LegalHoldActive,
    RecordDestroyed,
)


def _specific(error: Exception) -> str | None:
    if isinstance(error, RecordDestroyed):
        return _("Document %(number)s was destroyed; only its stub remains.", number=error.document)
    if isinstance(error, BeingDestroyed):
        return _(
            "Destruction list %(batch)s is being completed: its records cannot be read, "
            "changed or held.",
            batch=error.batch,
        )
    if isinstance(error, LegalHoldActive):
        return _(
            "Document %(number)s is on legal hold (%(holds)s): it cannot be changed or "
            "destroyed until every hold is released.",
            number=error.document,
            holds=", ".join(error.hold_ids),
        )
    if isinstance(error, RecordRestricted):
        return _(
            "Document %(number)s is restricted after the customer's erasure request: only "
            "compliance may read it.",
            number=error.document,
        )
    if isinstance(error, ClearanceInsufficient):
        return ngettext(
            "%(num)d of the records concerned is above your clearance or restricted, so "
            "you may not do this.",
            "%(num)d of the records concerned are above your clearance or restricted, so "
            "you may not do this.",
            error.hidden,
        )
    if isinstance(error, SelfReviewRefused):
        return _(
            "You filed or submitted %(number)s, so another archivist must review it.",
            number=error.document,
        )
    if isinstance(error, PermissionDenied):
        return _("Your role does not allow this.")
    if isinstance(error, NotFound):
        return _("Nothing with this name or number exists, or it is not visible to you.")
    if isinstance(error, BelowMinimum):
        return _(
            "Rule %(rule)s cannot be shorter than the statutory minimum of %(minimum)s.",
            rule=error.rule_code,
            minimum=error.minimum,
        )
    if isinstance(error, UnknownDocumentClass):
        return _("There is no document class %(code)s.", code=error.class_code)
    if isinstance(error, InspectionRunning):
        return _("An inspection is already running; wait until it has finished.")
    if isinstance(error, YearEndAlreadySignedOff):
        return _("This year-end review was already signed off.")
    if isinstance(error, UsernameTaken):
        return _("A user named %(name)s already exists.", name=error.username)
    if isinstance(error, AuthenticationFailed):
        return _("Wrong user name or password.")
    return None


def by_status(status: int) -> str:
    """What an HTTP status means to the user."""
    if status == 403:
        return _("You do not have access to this page.")
    if status == 404:
        return _("The page or record you asked for does not exist, or is not visible to you.")
    if status == 405:
        return _("This address does not take that kind of request.")
    if status == 409:
        return _("This cannot be done in the record's current state.")
    if status in (400, 422):
        return _("The request could not be processed as sent.")
    return _("Something went wrong on our side; the operation was not completed.")


def _english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def explain(error: Exception, status: int) -> str:
    """``error`` in the user's language: on English pages the service's own words (they
    name the most), on others its data said again, or its status."""
    if isinstance(error, AppError) and _english():
        return str(error)
    found = _specific(error)
    return found if found is not None else by_status(status)
