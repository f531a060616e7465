"""The application factory. Nothing happens at import time; ``create_app`` validates the
settings, checks the instance is initialised, and wires blueprints and extensions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask, request
from flask import session as flask_session
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

import templates as templates_package
from archive_app.errors import NotInitialised
from archive_app.infra import schema
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.infra.home import load_secret_key
from archive_app.infra.private_files import private_umask
from archive_app.models import User
from archive_app.services import login_sessions
from archive_app.web import (
    account,
    api,
    archives,
    audit,
    auth,
    catalogue,
    checklist,
    classes,
    consents,
    dashboard,
    documents,
    errors,
    inspection,
    notifications,
    retention,
    review_desk,
    search,
    throttle,
    users,
    viewer,
    worker_status,
    year_end,
)
from archive_app.web.context import PrivateUploadRequest, db_session, install
from archive_app.web.i18n import LANGUAGE_NAMES, select_locale
from archive_app.web.view_helpers import register_template_helpers

PACKAGE_DIR = Path(__file__).parent


class RowIdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(settings: Settings | None = None, *, testing: bool = False) -> Flask:
    settings = settings or Settings.from_env()
    private_umask()  # the database, index and broker files this process creates stay private
    secret_key = load_secret_key(settings)
    if secret_key is None:
        raise NotInitialised(f"no session signing key in {settings.home}")
    container = Container.from_settings(settings)
    if not schema.is_up_to_date(container.database.engine):
        container.close()
        raise NotInitialised("the database schema is missing or out of date")
    container.open_store()

    app = Flask(
        __name__,
        template_folder=str(Path(templates_package.__file__).parent),
        static_folder=str(PACKAGE_DIR / "static"),
    )
    app.config.update(
        SECRET_KEY=secret_key,
        TESTING=testing,
        SESSION_COOKIE_NAME="archive_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE_DIR / "translations"),
        BABEL_DEFAULT_LOCALE=settings.default_language,
        MAX_CONTENT_LENGTH=1024 * 1024 * 1024,
    )

    # Whole numbers in addresses beyond a database integer name nothing: 404, not a 500.
    app.url_map.converters["int"] = RowIdConverter
    app.request_class = PrivateUploadRequest
    install(app, container)
    csrf = CSRFProtect(app)
    throttle.install(app, settings)
    Babel(app, locale_selector=select_locale)

    login_manager = LoginManager(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.login_message = None

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        # The signed cookie alone is not enough: its server-side session must still be open
        # (logout, a password change or deactivation end it for every copy of the cookie).
        user = login_sessions.resolve(db_session(), flask_session.get(auth.SESSION_TOKEN))
        return user if user is not None and str(user.id) == user_id else None

    app.register_blueprint(auth.blueprint)
    app.register_blueprint(dashboard.blueprint)
    app.register_blueprint(audit.blueprint)
    app.register_blueprint(inspection.blueprint)
    app.register_blueprint(year_end.blueprint)
    app.register_blueprint(archives.blueprint)
    app.register_blueprint(users.blueprint)
    app.register_blueprint(classes.blueprint)
    app.register_blueprint(documents.blueprint)
    app.register_blueprint(checklist.blueprint)
    app.register_blueprint(search.blueprint)
    app.register_blueprint(viewer.blueprint)
    app.register_blueprint(review_desk.blueprint)
    account.install(app)
    consents.install(app)
    retention.install(app)
    notifications.install(app)
    catalogue.install(app)
    # Before errors.register: flask-smorest installs its own HTTP error handler, which the
    # product's one error mapping then replaces.
    api.install(app, csrf)
    errors.register(app)
    register_template_helpers(app, LANGUAGE_NAMES)
    worker_status.install(app)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'",
        )
        if request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "public, max-age=3600")
        else:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
