"""Hostile values in addresses, queries and forms get a clear 4xx answer, never a 500,
and the command line answers them on one line without a traceback."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from archive_app.infra.container import Container
from archive_app.models import User
from tests.app.helpers import csrf_token
from tests.retention_app.conftest import add_document, make_archive

HUGE = "9" * 23
HOSTILE_GETS = (
    "/search?q=x&amount_min=1e309",
    "/search?q=x&amount_max=-1e309",
    "/search?q=x&amount_min=NaN",
    "/api/search?q=x&amount_max=1e999999",
    "/api/search?q=x&page=" + HUGE,
    "/api/search?q=x&per_page=-5",
    "/search?q=x&page=" + HUGE,
    "/search?q=x&date_from=2020-13-01",
    "/archives?page=" + HUGE,
    "/archives?per_page=" + HUGE,
    "/archives?page=-3",
    "/archives?level=topsecret",
    "/archives?sort=;drop",
    "/archives/quick-find?q=" + "档" * 5000,
    "/documents/status?ids=" + HUGE,
    "/documents/status?ids=abc",
    "/retention/plan?as_of=2026-02-30",
    "/retention/plan?as_of=" + HUGE,
)


@pytest.fixture
def document(container: Container, admin: User, tmp_path: Path) -> str:
    archive = make_archive(container, admin)
    return add_document(
        container,
        admin,
        archive,
        "contract",
        tmp_path / "docs",
        document_date=date(2024, 1, 1),
        declared=False,
    )


def test_hostile_query_values_get_a_clear_answer(admin_client: FlaskClient, document: str) -> None:
    paths = [
        *HOSTILE_GETS,
        f"/documents/{document}/versions/{'9' * 20}/original",
        f"/documents/{document}/versions/0/original",
        f"/documents/{'x' * 3000}",
    ]
    for path in paths:
        response = admin_client.get(path)
        assert 400 <= response.status_code < 500 or response.status_code == 200, (
            path,
            response.status_code,
        )
        assert "Traceback" not in response.get_data(as_text=True), path


def test_hostile_form_posts_get_a_clear_answer(
    admin_client: FlaskClient, document: str, tmp_path: Path
) -> None:
    token = csrf_token(admin_client, f"/documents/{document}")
    release = admin_client.post(f"/retention/holds/{'9' * 20}/release", data={"csrf_token": token})
    assert release.status_code in (302, 404), release.status_code
    # A file that is not a document, sent as a new version, is refused like on the CLI.
    bad = admin_client.post(
        f"/documents/{document}/versions",
        data={"csrf_token": token, "file": (tmp_path.joinpath("x.pdf").open("wb+"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert bad.status_code in (302, 400, 409, 413, 415, 422), bad.status_code


def test_command_line_answers_bad_amounts_on_one_line(cli, document: str) -> None:
    for args in (
        ("search", "x", "--min-amount", "1e309"),
        ("search", "x", "--max-amount", "NaN"),
        ("search", "x", "--limit", HUGE),
    ):
        result = cli(*args)
        assert result.returncode in (1, 2), (args, result)
        assert "Traceback" not in result.stderr
        # A refusal is one line; a usage error is click's usage note ending in one line.
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(("archive: ", "Error: ")), result.stderr
