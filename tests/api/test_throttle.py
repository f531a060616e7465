"""API calls are limited per token user and per remote address: beyond either allowance a
call is answered 429 with ``Retry-After`` as problem details, and the first refused call of
each window is recorded in the audit trail (not every one: a flood cannot flood the trail)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from archive_app.app import create_app
from archive_app.models import AuditEntry
from tests.api.conftest import ApiInstance


@pytest.fixture
def tight_app(api: ApiInstance) -> Iterator[Flask]:
    """The package's instance served by an app whose API allowances are tiny (counts kept in
    this app's own memory, so other tests are not throttled)."""
    settings = api.settings.with_overrides(
        api_user_limit="3 per minute", api_address_limit="5 per minute"
    )
    app = create_app(settings, testing=True)
    yield app
    app.extensions["archive"].close()


def _throttled_entries(api: ApiInstance) -> list[AuditEntry]:
    with api.container.database.session() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "api.throttled")
                .order_by(AuditEntry.seq)
            )
        )


def test_calls_beyond_the_user_and_address_allowances_get_429_with_retry_after(
    api: ApiInstance, tight_app: Flask
) -> None:
    before = len(_throttled_entries(api))
    client = tight_app.test_client()
    answers = [client.get("/api/v1/archives", headers=api.headers("archivist")) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    refused = answers[3]
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["code"] == "throttled"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60

    # Another user from the same address: the address allowance (5) counts only the calls
    # that were let through (3), so two more pass and the third is refused.
    others = [client.get("/api/v1/archives", headers=api.headers("staff")) for _ in range(3)]
    assert [a.status_code for a in others] == [200, 200, 429]
    assert int(others[2].headers["Retry-After"]) >= 1

    entries = _throttled_entries(api)[before:]
    # One entry per breached window, though the archivist was refused twice.
    assert [(e.object_type, e.outcome) for e in entries] == [
        ("user", "refused"),
        ("address", "refused"),
    ]
    assert entries[0].object_id == "archivist"
    assert entries[0].after["limit"].startswith("3 per 1 minute")


def test_a_refused_token_is_not_counted_against_anyone(api: ApiInstance, tight_app: Flask) -> None:
    client = tight_app.test_client()
    for _ in range(6):
        assert (
            client.get("/api/v1/archives", headers={"Authorization": "Bearer nope"}).status_code
            == 401
        )
    assert client.get("/api/v1/archives", headers=api.headers("auditor")).status_code == 200
