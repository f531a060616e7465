"""Log in, log out, switch language."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from archive_app.errors import AuthenticationFailed
from archive_app.infra.config import SUPPORTED_LANGUAGES
from archive_app.services import audit, login_sessions, refusals, users
from archive_app.web import throttle
from archive_app.web.context import db_session, services
from archive_app.web.forms import LoginForm

blueprint = Blueprint("auth", __name__)
SESSION_TOKEN = "login_token"  # the key of the server-side session's token in the cookie


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: never redirect to another host after login.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("dashboard.page")


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.page"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        wait = throttle.login_wait(db_session(), form.username.data or "")
        if wait is not None:
            refusals.record_failed_login(
                db_session(), form.username.data or "", "throttled", request.remote_addr
            )
            db_session().commit()
            error = _("Too many failed logins. Try again in %(seconds)d seconds.", seconds=wait)
            page = make_response(render_template("auth/login.html", form=form, error=error))
            return throttle.too_many(page, wait)
        try:
            user = users.authenticate(
                db_session(),
                form.username.data or "",
                form.password.data or "",
                remote_addr=request.remote_addr,
            )
        except AuthenticationFailed:
            throttle.login_failed(db_session(), form.username.data or "")
            error = _("Wrong user name or password.")
        else:
            language = session.get("language")
            session.clear()  # a fresh session on login defeats session fixation
            lifetime = timedelta(hours=services().settings.session_hours)
            session[SESSION_TOKEN] = login_sessions.start(db_session(), user, lifetime=lifetime)
            login_user(user)
            if language and not user.language:
                users.set_language(db_session(), user, language)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form, error=error), (401 if error else 200)


@blueprint.route("/logout", methods=["POST"])
@login_required
def logout():
    audit.record(db_session(), current_user, "user.logout", "user", current_user.username)
    login_sessions.end(db_session(), session.get(SESSION_TOKEN), "logout")
    logout_user()
    session.clear()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))


@blueprint.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    if code in SUPPORTED_LANGUAGES:
        session["language"] = code
        if current_user.is_authenticated:
            users.set_language(db_session(), current_user, code)
    return redirect(
        _safe_next(
            request.form.get("next") or (request.referrer and urlsplit(request.referrer).path)
        )
    )
