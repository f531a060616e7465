"""User administration (admin only): list, create, change role/clearance/active, one
user's page with the password reset and the unlock of an account locked after failed
logins."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from archive_app.errors import Conflict, PasswordRefused, ValidationFailed
from archive_app.infra.passwords import MIN_PASSWORD_LENGTH
from archive_app.models.user import Level
from archive_app.permissions import Capability, may_grant_clearance, may_manage_user, require
from archive_app.services import lockouts, passwords, users
from archive_app.web.context import db_session
from archive_app.web.error_messages import explain
from archive_app.web.forms import ResetPasswordForm, UserForm, UserUpdateForm
from archive_app.web.password_messages import messages

blueprint = Blueprint("users", __name__, url_prefix="/admin/users")


@blueprint.route("/", methods=["GET", "POST"])
@login_required
def list_page():
    require(current_user, Capability.MANAGE_USERS)
    form = UserForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = users.create_user(
                db_session(),
                current_user,
                username=form.username.data or "",
                role=form.role.data or "",
                password=form.password.data or "",
                display_name=form.display_name.data or "",
                clearance=form.clearance.data or None,
            )
        except ValidationFailed as error:
            for name, message in error.problems.items():
                getattr(form, name).errors = [_user_problem(name, message)]
            status = 422
        except Conflict as error:
            form.username.errors = [explain(error, 409)]
            status = 409
        else:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("users.list_page"))
    elif form.errors:
        status = 422
    rows = users.list_users(db_session(), current_user)
    editable = {
        user.id
        for user in rows
        if user.id != current_user.id and may_manage_user(current_user, user)
    }
    grantable = {level.value for level in Level if may_grant_clearance(current_user, level)}
    return render_template(
        "users/list.html", users=rows, editable=editable, grantable=grantable, form=form
    ), status


def _user_problem(field: str, english: str) -> str:
    """A refused value of the user form in the reader's language. The service words each
    field's refusal in English; on an English page its words stand, otherwise each field's
    rule is said again (role and clearance come from menus, so only a tampered form or a
    rank above one's own reaches them)."""
    if get_locale() is not None and get_locale().language == "en":
        return english
    if field == "username":
        return _("Use 2 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter.")
    if field == "password":
        return _(
            "The password must be at least %(count)d characters long.", count=MIN_PASSWORD_LENGTH
        )
    if field == "clearance" and "above your own" in english:
        return _("You cannot grant a clearance above your own.")
    if field == "active":
        return _("You cannot deactivate yourself.")
    if field in ("role", "clearance") and "your own" in english:
        return _("You cannot change your own role or clearance; another admin can.")
    return _("This value is not valid.")


@blueprint.route("/<username>", methods=["POST"])
@login_required
def update(username: str):
    require(current_user, Capability.MANAGE_USERS)
    form = UserUpdateForm()
    if form.validate_on_submit():
        try:
            users.update_user(
                db_session(),
                current_user,
                username,
                role=form.role.data,
                clearance=form.clearance.data,
                active=form.active.data,
            )
        except ValidationFailed as error:
            flash(
                "; ".join(_user_problem(name, text) for name, text in error.problems.items()),
                "danger",
            )
        else:
            flash(_("User %(name)s updated.", name=username), "success")
    return redirect(url_for("users.list_page"))


@blueprint.route("/<username>", methods=["GET"])
@login_required
def detail(username: str):
    require(current_user, Capability.MANAGE_USERS)
    return _detail_page(username, ResetPasswordForm(), 200)


@blueprint.route("/<username>/password", methods=["POST"])
@login_required
def reset_password(username: str):
    require(current_user, Capability.MANAGE_USERS)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return _detail_page(username, form, 422)
    try:
        user = passwords.reset(db_session(), current_user, username, new=form.password.data or "")
    except PasswordRefused as error:
        for name, texts in messages(error, own=False).items():
            getattr(form, name).errors = texts
        return _detail_page(username, form, 422)
    flash(
        _(
            "Password of %(name)s reset: they must change it at their next login.",
            name=user.username,
        ),
        "success",
    )
    return redirect(url_for("users.detail", username=user.username))


@blueprint.route("/<username>/unlock", methods=["POST"])
@login_required
def unlock(username: str):
    try:
        user = lockouts.unlock(db_session(), current_user, username)
    except Conflict:
        flash(_("User %(name)s is not locked.", name=username), "warning")
    else:
        flash(_("User %(name)s unlocked.", name=user.username), "success")
    return redirect(url_for("users.detail", username=username))


def _detail_page(username: str, form: ResetPasswordForm, status: int):
    user = users.get_user(db_session(), username)
    locked = lockouts.remaining(db_session(), user) is not None
    return render_template(
        "users/detail.html",
        user=user,
        locked_until=format_datetime(user.locked_until) if locked else None,
        form=form,
        manageable=user.id != current_user.id and may_manage_user(current_user, user),
    ), status
