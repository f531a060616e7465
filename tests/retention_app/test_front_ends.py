"""The retention workflow through the real front ends: the ``archive`` command (its real
entry point, run in this process: exit codes, JSON) and the web pages (Flask test client
with CSRF on)."""

from __future__ import annotations

import io
import json
import os
from datetime import date
from pathlib import Path

import pypdf
from flask.testing import FlaskClient

from archive_app.infra.container import Container
from archive_app.models import User
from tests.app.helpers import login, post_form
from tests.conftest import USER_PASSWORD, CliResult, run_cli
from tests.retention_app.conftest import add_document, make_archive

OLD = date(1990, 3, 5)


def _ok(result: CliResult) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_cli_batch_flow_and_certificate_verification(
    cli, container: Container, admin: User, people: dict[str, User], tmp_path: Path
) -> None:
    archive = make_archive(container, admin)
    old = add_document(container, admin, archive, "voucher", tmp_path / "f", document_date=OLD)
    contract = add_document(
        container, admin, archive, "contract", tmp_path / "f", document_date=date(2001, 5, 1)
    )

    plan = json.loads(_ok(cli("retention", "plan", "--json", "--as", "comp1")))
    reasons = {e["document"]: e["reason"] for e in plan["eligible"] + plan["not_eligible"]}
    assert reasons == {old: "ELIGIBLE", contract: "EVENT_MISSING"}  # no contract_end yet

    created = json.loads(_ok(cli("retention", "batch", "create", "--json", "--as", "comp1")))
    batch = created["batch"]
    assert [i["document"] for i in created["items"]] == [old]
    # Approving before every item is reviewed is refused, on one line.
    refused = cli("retention", "batch", "approve", batch, "--as", "comp1")
    assert refused.returncode == 1 and "not reviewed" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    _ok(cli("retention", "batch", "review", batch, "--all", "--destroy", "--as", "comp1"))
    _ok(cli("retention", "batch", "approve", batch, "--as", "comp1"))
    # The same user approving twice counts once; running needs two distinct approvers.
    _ok(cli("retention", "batch", "approve", batch, "--as", "comp1"))
    early = cli("retention", "batch", "run", batch, "--as", "comp3")
    assert early.returncode == 1 and "1 distinct approval(s), 2 required" in early.stderr
    # Archivists do not approve destruction.
    assert cli("retention", "batch", "approve", batch, "--as", "arch").returncode == 1
    _ok(cli("retention", "batch", "approve", batch, "--as", "comp2"))
    supervised = cli("retention", "batch", "run", batch, "--as", "comp2")
    assert supervised.returncode == 1 and "cannot execute" in supervised.stderr

    dry = json.loads(
        _ok(cli("retention", "batch", "run", batch, "--dry-run", "--json", "--as", "comp3"))
    )
    assert dry["would_destroy"] == [old] and dry["certificate"] is None
    assert json.loads(_ok(cli("show", old, "--json")))["retention"]["destroyed"] is None

    out = _ok(cli("retention", "batch", "run", batch, "--as", "comp3"))
    path = Path(out.strip().splitlines()[-1])
    assert path.exists() and path.parent == container.settings.home / "certificates"

    shown = json.loads(_ok(cli("show", old, "--json")))
    assert shown["retention"]["destroyed"]["certificate"] == f"CERT-{batch}"
    assert shown["sha256"] is None and shown["fields"] == {}
    assert "DESTROYED" in _ok(cli("show", old))

    verified = _ok(cli("certificate", "verify", str(path)))
    assert "valid" in verified and "pinned" in verified and "NOT pinned" not in verified
    # Verification works offline, without the instance: then it says it could not pin.
    elsewhere = {**os.environ, "ARCHIVE_HOME": str(tmp_path / "elsewhere")}  # no instance key
    elsewhere.pop("ARCHIVE_DATABASE_URL", None)
    alone = run_cli(elsewhere, "certificate", "verify", str(path))
    assert alone.returncode == 0 and "NOT pinned" in alone.stdout

    document = json.loads(path.read_text())
    document["certificate"]["items"][0]["title"] = "something else"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document, ensure_ascii=False))
    result = cli("certificate", "verify", str(tampered))
    assert result.returncode == 1 and "signature does not match" in result.stderr
    assert "Traceback" not in result.stderr
    # Re-signed with another key: the signature checks out, the pin does not.
    from retention import generate_private_key_pem, sign_certificate

    resigned = tmp_path / "resigned.json"
    resigned.write_bytes(sign_certificate(document["certificate"], generate_private_key_pem()))
    result = cli("certificate", "verify", str(resigned))
    assert result.returncode == 1 and "pinned" in result.stderr


def test_pages_and_the_destroyed_stub_in_the_ui(
    cli,
    app,
    client: FlaskClient,
    container: Container,
    admin: User,
    people: dict[str, User],
    tmp_path: Path,
) -> None:
    archive = make_archive(container, admin)
    old = add_document(container, admin, archive, "voucher", tmp_path / "f", document_date=OLD)
    assert login(client, "comp1", USER_PASSWORD).status_code == 302
    for page in (
        "/retention/",
        "/retention/holds",
        "/retention/plan?as_of=2026-01-01",
        "/retention/batches",
        "/retention/erasure",
    ):
        response = client.get(page)
        assert response.status_code == 200, page
    assert "acc.voucher" in client.get("/retention/").get_data(as_text=True)
    rules_zh = client.get("/retention/", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert "自文件日期所在会计年度终了后次日起算" in rules_zh
    assert "固定资产卡片" in rules_zh
    assert old in client.get("/retention/plan").get_data(as_text=True)

    response = post_form(client, "/retention/batches", {"as_of": ""}, page="/retention/batches")
    assert response.status_code == 302
    batch = response.headers["Location"].rsplit("/", 1)[-1]
    page = f"/retention/batches/{batch}"
    assert (
        post_form(client, f"{page}/review", {"decision": "destroy"}, page=page).status_code == 302
    )
    assert post_form(client, f"{page}/approve", {}, page=page).status_code == 302
    client.post("/logout", data={})
    client.delete_cookie("archive_session")
    assert login(client, "comp2", USER_PASSWORD).status_code == 302
    post_form(client, f"{page}/approve", {}, page=page)
    assert "approved" in client.get(page).get_data(as_text=True)
    client.delete_cookie("archive_session")
    assert login(client, "comp3", USER_PASSWORD).status_code == 302
    assert "dry-run" in client.get(f"{page}?dry_run=1").get_data(as_text=True)
    assert post_form(client, f"{page}/run", {}, page=page).status_code == 302
    certificate = client.get(f"{page}/certificate").get_data(as_text=True)
    assert old in certificate and "certificate-check" in certificate
    pdf = client.get(f"{page}/certificate?format=pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert old in text and "销毁证明" in text

    detail = client.get(f"/documents/{old}")
    assert detail.status_code == 200
    html = detail.get_data(as_text=True)
    assert "destroyed-stub" in html and f"CERT-{batch}" in html
    assert client.get(f"/documents/{old}/original").status_code == 409
