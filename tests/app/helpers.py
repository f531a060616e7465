"""Helpers for driving the app through real HTTP (Flask's test client) with CSRF on."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client: FlaskClient, page: str = "/login") -> str:
    response = client.get(page)
    match = _CSRF_META.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {page} (status {response.status_code})"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str):
    token = csrf_token(client)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def post_form(client: FlaskClient, url: str, data: dict[str, str], page: str = "/archives"):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page)})
