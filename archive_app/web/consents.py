"""Consent records on the archive page: record a customer's consent and withdraw it.

Both go through :mod:`archive_app.services.consents` (its permission checks and audit
entries); the page comes back to the archive's consents with a message in the user's
language, naming the fields a refused entry got wrong.
"""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from archive_app.errors import Conflict, ValidationFailed
from archive_app.permissions import Capability, require
from archive_app.services import consents
from archive_app.web.context import db_session
from archive_app.web.forms import ConsentForm, ConsentWithdrawalForm

blueprint = Blueprint("consents", __name__)

LABELS = {
    "purpose": _l("Purpose"),
    "scope": _l("Scope"),
    "given_on": _l("Given on"),
    "channel": _l("Channel"),
    "withdrawn_on": _l("Withdrawn on"),
}


def install(app: Flask) -> None:
    app.register_blueprint(blueprint)


def _back(number: str) -> Response:
    return redirect(url_for("archives.detail", number=number, _anchor="consents"))


def _refused(fields: list[str]) -> None:
    names = ", ".join(str(LABELS.get(name, name)) for name in fields)
    flash(_("Please check: %(fields)s.", fields=names), "danger")


@blueprint.route("/archives/<number>/consents", methods=["POST"])
@login_required
def record(number: str) -> Response:
    require(current_user, Capability.MANAGE_ARCHIVES)
    form = ConsentForm()
    if not form.validate_on_submit():
        _refused(list(form.errors))
        return _back(number)
    try:
        consents.record_consent(
            db_session(),
            current_user,
            number,
            purpose=form.purpose.data or "",
            scope=form.scope.data or "",
            given_on=form.given_on.data,
            channel=form.channel.data or "",
        )
    except ValidationFailed as error:
        _refused(list(error.problems))
    else:
        flash(_("Consent recorded."), "success")
    return _back(number)


@blueprint.route("/archives/<number>/consents/<int:consent_id>/withdraw", methods=["POST"])
@login_required
def withdraw(number: str, consent_id: int) -> Response:
    require(current_user, Capability.MANAGE_ARCHIVES)
    form = ConsentWithdrawalForm()
    if not form.validate_on_submit():
        _refused(list(form.errors))
        return _back(number)
    try:
        consents.withdraw_consent(
            db_session(),
            current_user,
            number,
            consent_id,
            withdrawn_on=form.withdrawn_on.data,
            channel=form.channel.data or "",
        )
    except ValidationFailed as error:
        _refused(list(error.problems))
    except Conflict:
        flash(_("This consent was already withdrawn."), "danger")
    else:
        flash(_("Consent withdrawn."), "success")
    return _back(number)
