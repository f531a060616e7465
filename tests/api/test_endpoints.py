"""Every API endpoint for every role, allowed and refused, through real requests with real
tokens against one seeded instance; and the filing flow end to end over the API."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from archive_app.models import AuditEntry, Document
from archive_app.services.processing import process_document
from tests import documents as docs
from tests.api.conftest import ROLES, ApiInstance

EVERYONE = set(ROLES)
FILERS = {"admin", "archivist"}
RETENTION_READERS = {"admin", "compliance", "auditor"}


def _pdf(api: ApiInstance, text: str) -> bytes:
    return docs.write_text_pdf([[text]], api.root / "upload.pdf").read_bytes()


# (method, path, who may, request extras); {a} is the archive, {d} the processed document.
ENDPOINTS = [
    ("GET", "/api/v1/archives?q=KH&per_page=5", EVERYONE, {}),
    ("POST", "/api/v1/archives", FILERS, {"json": {"name": "北京华信科技有限公司"}}),
    ("GET", "/api/v1/archives/{a}", EVERYONE, {}),
    ("PATCH", "/api/v1/archives/{a}", FILERS, {"json": {"notes": "via the API"}}),
    ("POST", "/api/v1/archives/{a}/documents", FILERS, {"upload": True}),
    ("POST", "/api/v1/archives/import", FILERS, {"table": "客户名称\n杭州远望咨询有限公司\n"}),
    ("GET", "/api/v1/documents/{d}", EVERYONE, {}),
    ("PATCH", "/api/v1/documents/{d}", FILERS, {"json": {"title": "Service Agreement"}}),
    ("GET", "/api/v1/documents/{d}/status", EVERYONE, {}),
    ("GET", "/api/v1/documents/{d}/original", EVERYONE, {}),
    ("GET", "/api/v1/documents/{d}/pdf", EVERYONE, {}),
    ("GET", "/api/v1/search?q=penalty&per_page=5", EVERYONE, {}),
    ("GET", "/api/v1/archives/{a}/checklist", EVERYONE, {}),
    ("POST", "/api/v1/documents/{d}/checklist/submit", FILERS, {}),
    ("POST", "/api/v1/documents/{d}/checklist/confirm", FILERS, {}),
    ("POST", "/api/v1/documents/{d}/checklist/reject", FILERS, {"json": {"reason": "blurred"}}),
    ("GET", "/api/v1/retention/plan", RETENTION_READERS, {}),
    ("GET", "/api/v1/retention/holds", RETENTION_READERS, {}),
    ("GET", "/api/v1/retention/batches", RETENTION_READERS, {}),
]


def _call(api: ApiInstance, method: str, path: str, extras: dict, headers: dict[str, str]):
    url = path.format(a=api.archive, d=api.document)
    kwargs: dict = {"headers": headers}
    if "json" in extras:
        kwargs["json"] = extras["json"]
    if extras.get("upload"):
        kwargs["data"] = {"file": [(io.BytesIO(_pdf(api, f"upload {method}")), "scan.pdf")]}
        kwargs["content_type"] = "multipart/form-data"
    if "table" in extras:
        table = io.BytesIO(extras["table"].encode())
        kwargs["data"] = {"file": (table, "客户.csv"), "dry_run": "true"}
        kwargs["content_type"] = "multipart/form-data"
    return api.client().open(url, method=method, **kwargs)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "allowed", "extras"),
    ENDPOINTS,
    ids=[f"{method} {path.split('?')[0]}" for method, path, _a, _e in ENDPOINTS],
)
def test_each_endpoint_for_each_role(
    api: ApiInstance, role: str, method: str, path: str, allowed: set[str], extras: dict
) -> None:
    response = _call(api, method, path, extras, api.headers(role))
    assert response.status_code < 500, response.get_data(as_text=True)
    if role in allowed:
        # Allowed: the call reached its use case (a checklist line in the wrong state
        # answers 409, which is the use case speaking, not the permission check).
        assert response.status_code not in (401, 403), response.get_json()
    else:
        assert response.status_code == 403, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["code"] == "forbidden"


@pytest.mark.parametrize(
    ("method", "path", "extras"),
    [(method, path, extras) for method, path, _a, extras in ENDPOINTS],
    ids=[f"{method} {path.split('?')[0]}" for method, path, _a, _e in ENDPOINTS],
)
def test_no_token_no_entry(api: ApiInstance, method: str, path: str, extras: dict) -> None:
    response = _call(api, method, path, extras, {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["code"] == "invalid_token"


def test_filing_flow_over_the_api(api: ApiInstance) -> None:
    """Upload two files at once, then the four-eyes checklist: submit, self-review refused,
    reject, submit again, a second archivist confirms, the record is declared; every step
    is in the audit trail as the token's user."""
    client = api.client()
    files = [
        (io.BytesIO(_pdf(api, "Framework Agreement 7")), "合同7.pdf"),
        (io.BytesIO(b"not a scan at all"), "notes.txt"),
    ]
    response = client.post(
        f"/api/v1/archives/{api.archive}/documents",
        data={"file": files, "class": "contract"},
        content_type="multipart/form-data",
        headers=api.headers("archivist"),
    )
    assert response.status_code == 200, response.get_json()
    queued, rejected = response.get_json()
    assert set(queued) == {"file", "document", "status", "error"}
    assert (queued["file"], queued["status"], queued["error"]) == ("合同7.pdf", "queued", None)
    assert (rejected["status"], rejected["document"]) == ("rejected", None) and rejected["error"]
    number = queued["document"]
    with api.container.database.session() as session:
        document_id = session.query(Document.id).filter_by(number=number).scalar()
    process_document(api.container, document_id)
    status = client.get(f"/api/v1/documents/{number}/status", headers=api.headers("staff"))
    assert status.get_json()["status"] == "ready"

    edit = client.patch(
        f"/api/v1/documents/{number}",
        json={
            "title": "Framework Agreement 7",
            "fields": {
                "counterparty": "北京华信科技有限公司",
                "contract_number": "HT-2026-0007",
                "sign_date": "2026-03-05",
                "end_date": "2027-03-04",
                "amount": "128000.00",
            },
        },
        headers=api.headers("archivist"),
    )
    assert edit.status_code == 200, edit.get_json()
    assert edit.get_json()["fields"]["contract_number"] == "HT-2026-0007"

    location = f"/api/v1/documents/{number}/checklist"
    assert client.post(f"{location}/submit", headers=api.headers("archivist")).status_code == 200
    own = client.post(f"{location}/confirm", headers=api.headers("archivist"))
    assert (own.status_code, own.get_json()["code"]) == (403, "self_review")
    back = client.post(
        f"{location}/reject", json={"reason": "page 2 missing"}, headers=api.headers("reviewer")
    )
    assert back.get_json()["state"] == "draft", back.get_json()
    assert client.post(f"{location}/submit", headers=api.headers("archivist")).status_code == 200
    done = client.post(f"{location}/confirm", headers=api.headers("reviewer"))
    assert done.status_code == 200 and done.get_json()["state"] == "filed"
    shown = client.get(f"/api/v1/documents/{number}", headers=api.headers("staff")).get_json()
    assert shown["declared_at"] is not None

    lines = client.get(
        f"/api/v1/archives/{api.archive}/checklist?state=filed&per_page=1",
        headers=api.headers("staff"),
    ).get_json()
    assert [line["document"] for line in lines["items"]] == [number]

    with api.container.database.session() as session:
        trail = [
            (entry.actor_name, entry.action, entry.outcome)
            for entry in session.scalars(
                select(AuditEntry).where(AuditEntry.object_id == number).order_by(AuditEntry.seq)
            )
        ]
    assert ("reviewer", "checklist.confirm", "ok") in trail
    assert ("archivist", "access.refused", "refused") in trail


def test_customers_import_over_the_api(api: ApiInstance) -> None:
    """The same report as ``archive archives import --json``: a bad row refuses the file,
    ``skip_invalid`` imports the rest (audited as the token's user), an unreadable file is
    a problem."""
    client = api.client()
    table = "客户名称,统一社会信用代码\n宁波远洋贸易有限公司,\n坏号码公司,91310000MA1K4LXN02\n"

    def send(**form: str):
        return client.post(
            "/api/v1/archives/import",
            data={"file": (io.BytesIO(table.encode()), "客户.csv"), **form},
            content_type="multipart/form-data",
            headers=api.headers("archivist"),
        )

    refused = send().get_json()
    assert (refused["refused"], refused["written"], refused["create"]) == (True, False, 1)
    assert [(row["line"], row["action"]) for row in refused["rows"]] == [
        (2, "create"),
        (3, "invalid"),
    ]
    assert "tax_id" in refused["rows"][1]["problems"]
    done = send(skip_invalid="true").get_json()
    assert (done["refused"], done["written"], done["invalid"]) == (False, True, 1)
    with api.container.database.session() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "archive.import")
        ).one()
        assert entry.after["create"] == 1 and entry.after["skipped_lines"] == [3]
    bad = client.post(
        "/api/v1/archives/import",
        data={"file": (io.BytesIO(b"\x00\x01"), "客户.xlsx")},
        content_type="multipart/form-data",
        headers=api.headers("admin"),
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert bad.get_json()["code"] == "table_unreadable"
