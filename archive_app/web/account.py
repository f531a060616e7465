"""The signed-in user's own account: changing their password, the forced change, and
their API tokens (created here, shown once, revoked here).

A user who must change their password (after an admin's reset, or the generated first
password of ``admin``) is sent to the change-password page from every page until they
have; logging out and switching the language still work.
"""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from archive_app.domain.password_policy import MIN_LENGTH
from archive_app.errors import PasswordRefused
from archive_app.services import api_tokens, passwords
from archive_app.web.auth import SESSION_TOKEN
from archive_app.web.context import db_session
from archive_app.web.forms import ApiTokenForm, ChangePasswordForm
from archive_app.web.password_messages import messages

blueprint = Blueprint("account", __name__, url_prefix="/account")

# What a user who must change their password may still reach.
_OPEN_WHILE_FORCED = {"account.change_password", "auth.logout", "auth.set_language", "static"}


def install(app: Flask) -> None:
    app.register_blueprint(blueprint)

    @app.before_request
    def _forced_change():
        # The API answers for its token (created deliberately), not for a login password.
        if (
            request.endpoint not in _OPEN_WHILE_FORCED
            and not request.path.startswith("/api/v1/")
            and current_user.is_authenticated
            and current_user.must_change_password
        ):
            return redirect(url_for("account.change_password"))
        return None


@blueprint.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            passwords.change_own(
                db_session(),
                current_user,
                current=form.current_password.data or "",
                new=form.password.data or "",
                keep=session.get(SESSION_TOKEN),
            )
        except PasswordRefused as error:
            for name, texts in messages(error, own=True).items():
                getattr(form, name).errors = texts
            status = 422
        else:
            flash(_("Your password has been changed. Your other sessions have ended."), "success")
            return redirect(url_for("dashboard.page"))
    elif form.errors:
        status = 422
    return render_template(
        "account/password.html",
        form=form,
        forced=current_user.must_change_password,
        min_length=MIN_LENGTH,
    ), status


@blueprint.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = ApiTokenForm()
    created = None
    status = 200
    if form.validate_on_submit():
        _row, created = api_tokens.create(
            db_session(),
            current_user,
            current_user.username,
            form.name.data or "",
            expires_days=form.expires.data,
        )
        form = ApiTokenForm(formdata=None)
    elif form.errors:
        status = 422
    return render_template(
        "account/tokens.html",
        form=form,
        created=created,
        rows=api_tokens.list_tokens(db_session(), current_user, current_user.username),
        is_live=api_tokens.is_live,
    ), status


@blueprint.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    row = api_tokens.revoke(db_session(), current_user, token_id)
    flash(_("Token %(name)s revoked.", name=row.name), "success")
    return redirect(url_for("account.tokens"))
