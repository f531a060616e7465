"""Who calls ``/api/v1``: the user of the bearer token in ``Authorization``, nothing else.

A browser's session cookie is never looked at on the API (so a page of another site cannot
make a logged-in browser call it: no CSRF exposure, and the API is exempt from the form
CSRF check for that reason). The user is put where Flask-Login keeps the current user, so
services, permission checks and the refusal trail see the token's user as on any page.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_login import AnonymousUserMixin

from archive_app.errors import TokenRefused
from archive_app.services import api_tokens
from archive_app.web import throttle
from archive_app.web.context import db_session

PREFIX = "/api/v1"


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def install(app: Flask) -> None:
    def _authenticate() -> None:
        if not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
            return
        # Set before any other hook asks for the current user: the cookie is never read.
        g._login_user = AnonymousUserMixin()
        token = bearer_token()
        if token is None:
            raise TokenRefused()
        g._login_user = api_tokens.authenticate(
            db_session(), token, remote_addr=request.remote_addr
        )
        throttle.api_call(db_session(), g._login_user.id)

    app.before_request_funcs.setdefault(None, []).insert(0, _authenticate)
