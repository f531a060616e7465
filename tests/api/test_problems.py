"""Bad input on /api/v1 is answered as RFC 9457 problem details naming what is wrong."""

from __future__ import annotations

import io

import pytest

from tests.api.conftest import ApiInstance

ARCHIVES = "/api/v1/archives"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["type"] and body["title"] and body["detail"]
    return body


def test_malformed_json(api: ApiInstance) -> None:
    response = api.client().post(
        ARCHIVES,
        data='{"name": "unterminated',
        content_type="application/json",
        headers=api.headers("archivist"),
    )
    assert _problem(response, 400)["code"] == "invalid"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 42}, "name"),  # wrong type
        ({"name": "x", "level": "top-secret"}, "level"),  # not one of the levels
        ({"name": "x", "colour": "red"}, "colour"),  # unknown field
        ({}, "name"),  # required field missing
    ],
    ids=["wrong-type", "bad-choice", "unknown-field", "missing"],
)
def test_schema_refusals_name_the_field(api: ApiInstance, body: dict, field: str) -> None:
    response = api.client().post(ARCHIVES, json=body, headers=api.headers("archivist"))
    problem = _problem(response, 422)
    assert problem["code"] == "invalid" and field in problem["errors"]


def test_service_validation_is_a_problem_too(api: ApiInstance) -> None:
    response = api.client().post(
        ARCHIVES, json={"name": "x", "tax_id": "123"}, headers=api.headers("archivist")
    )
    assert "tax_id" in _problem(response, 422)["errors"]


def test_wrong_query_types_and_page_size(api: ApiInstance) -> None:
    client = api.client()
    for query in ("page=zero", "per_page=1000", "per_page=0", "dir=sideways"):
        _problem(client.get(f"{ARCHIVES}?{query}", headers=api.headers("staff")), 422)
    _problem(client.get("/api/v1/search?date_from=yesterday", headers=api.headers("staff")), 422)
    bad_query = client.get('/api/v1/search?q="unclosed', headers=api.headers("staff"))
    assert bad_query.status_code in (400, 422)
    assert bad_query.mimetype == "application/problem+json"


def test_unknown_archive_and_document(api: ApiInstance) -> None:
    client = api.client()
    assert (
        _problem(client.get(f"{ARCHIVES}/KH-999999", headers=api.headers("staff")), 404)["code"]
        == "not_found"
    )
    upload = client.post(
        f"{ARCHIVES}/KH-999999/documents",
        data={"file": [(io.BytesIO(b"%PDF-1.4"), "a.pdf")]},
        content_type="multipart/form-data",
        headers=api.headers("archivist"),
    )
    _problem(upload, 404)
    _problem(client.get("/api/v1/documents/KH-9-HT-2026-0001", headers=api.headers("staff")), 404)
    _problem(client.get("/api/v1/nothing-here", headers=api.headers("staff")), 404)


def test_upload_without_file(api: ApiInstance) -> None:
    response = api.client().post(
        f"{ARCHIVES}/{api.archive}/documents",
        data={"class": "contract"},
        content_type="multipart/form-data",
        headers=api.headers("archivist"),
    )
    assert "file" in _problem(response, 422)["errors"]


def test_oversized_upload(api: ApiInstance) -> None:
    """A body announced above the request limit is refused before it is read."""
    limit = api.app.config["MAX_CONTENT_LENGTH"]
    response = api.client().post(
        f"{ARCHIVES}/{api.archive}/documents",
        data=b"--x\r\n",
        content_type="multipart/form-data; boundary=x",
        headers=api.headers("archivist"),
        environ_overrides={"CONTENT_LENGTH": str(limit + 1)},
    )
    assert _problem(response, 413)["code"] == "request_entity_too_large"


def test_oversized_file_is_rejected_per_file(api: ApiInstance) -> None:
    """A file above ARCHIVE_MAX_UPLOAD_BYTES inside an accepted request is that file's
    rejection, as in 'archive import', not the whole request's."""
    limit = api.settings.max_upload_bytes
    response = api.client().post(
        f"{ARCHIVES}/{api.archive}/documents",
        data={"file": [(io.BytesIO(b"%PDF-1.4\n" + b"0" * limit), "huge.pdf")]},
        content_type="multipart/form-data",
        headers=api.headers("archivist"),
    )
    assert response.status_code == 200
    [result] = response.get_json()
    assert result["status"] == "rejected" and result["error"]


def test_docs_page_and_description(api: ApiInstance) -> None:
    client = api.client()
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    upload = spec["paths"]["/api/v1/archives/{number}/documents"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"swagger-ui-bundle.js" in page.data
    assert client.get("/api/docs/ui/swagger-ui-bundle.js").status_code == 200
