"""The audit trail read by auditors: ``/audit`` and ``archive audit list|export``, each
filter, exports that verify offline (and a tampered line that does not), reading that is
itself audited, and the clearance rule (values of entries about what the reader may not
see are withheld)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive_app.infra.db import Database
from archive_app.models import AuditEntry, User
from archive_app.services import archives
from archive_app.services.archives import ArchiveInput
from archive_app.services.audit import verify_chain
from archive_app.services.audit_export import verify_export
from tests.app.helpers import login, post_form
from tests.conftest import USER_PASSWORD


@pytest.fixture
def trail(database: Database, admin: User) -> dict[str, str]:
    """Two archives, one secret, edited and viewed by admin: a trail with a known shape."""
    with database.session() as session:
        plain = archives.create_archive(
            session, admin, ArchiveInput(name="上海明远贸易有限公司"), number_pattern="KH-{seq:06d}"
        ).number
        secret = archives.create_archive(
            session,
            admin,
            ArchiveInput(name="机密客户有限公司", level="secret"),
            number_pattern="KH-{seq:06d}",
        ).number
    with database.session() as session:
        archives.update_archive(
            session, admin, plain, ArchiveInput(name="上海明远贸易有限公司", notes="已搬迁")
        )
        archives.update_archive(
            session,
            admin,
            secret,
            ArchiveInput(name="机密客户有限公司", level="secret", notes="董事会"),
        )
        archives.view_archive(session, admin, plain)
    return {"plain": plain, "secret": secret}


def _reader(client: FlaskClient, make_user, name: str, role: str, clearance: str | None = None):
    make_user(name, role, clearance)
    assert login(client, name, USER_PASSWORD).status_code == 302
    return client


def _entries(database: Database, action: str) -> list[AuditEntry]:
    with database.session() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            )
        )


def test_auditor_sees_the_trail_and_staff_gets_403(
    client: FlaskClient, app, make_user, trail: dict[str, str], database: Database
) -> None:
    auditor = _reader(client, make_user, "aud", "auditor")
    page = auditor.get("/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "archive.update" in html and trail["plain"] in html
    assert "已搬迁" in html  # the after value, readable

    other = app.test_client()
    _reader(other, make_user, "clerk", "staff")
    assert other.get("/audit").status_code == 403
    assert other.get("/audit/export?format=jsonl").status_code == 403
    assert 'href="/audit"' not in other.get("/archives").get_data(as_text=True)
    assert 'href="/audit"' in auditor.get("/archives").get_data(as_text=True)


def test_each_filter_narrows_the_page(
    admin_client: FlaskClient, trail: dict[str, str], make_user, database: Database
) -> None:
    def seqs(query: str) -> list[str]:
        response = admin_client.get(f"/audit?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        html = response.get_data(as_text=True)
        rows = html.split("<tbody>")[1].split("</tbody>")[0]
        # Each row's sequence number is its one cell in small monospace.
        return [part.split("</td>")[0] for part in rows.split('font-monospace small">')[1:]]

    everything = seqs("")
    assert len(everything) >= 5
    by_action = seqs("action=archive.update")
    assert len(by_action) == 2
    assert len(seqs("action=archive.*")) >= 5
    assert seqs(f"object_type=archive&object_id={trail['plain']}")
    assert all(
        trail["plain"] in row
        for row in admin_client.get(f"/audit?object_id={trail['plain']}")
        .get_data(as_text=True)
        .split("<tbody>")[1]
        .split("<tr>")[1:]
    )
    assert seqs("actor=nobody") == []
    assert len(seqs("actor=admin")) >= 5
    assert seqs("outcome=refused") == []
    assert len(seqs("outcome=ok")) >= 5
    assert len(seqs("since=2000-01-01&until=2999-12-31")) >= 5
    assert seqs("until=2000-01-01") == []
    bad = admin_client.get("/audit?since=2026-13-45")
    assert bad.status_code == 422
    assert "2026-03-05" in bad.get_data(as_text=True)


def test_paging_is_newest_first_and_bounded(
    admin_client: FlaskClient, trail: dict[str, str], cli
) -> None:
    first = json.loads(cli("audit", "list", "--limit", "2", "--json").stdout)
    assert [e["seq"] for e in first["entries"]] == sorted(
        (e["seq"] for e in first["entries"]), reverse=True
    )
    assert first["next_before"] == first["entries"][-1]["seq"]
    second = json.loads(
        cli("audit", "list", "--limit", "2", "--before", str(first["next_before"]), "--json").stdout
    )
    assert max(e["seq"] for e in second["entries"]) < first["next_before"]
    assert cli("audit", "list", "--limit", "5000").returncode == 2
    assert admin_client.get("/audit?limit=5000").status_code == 422


def test_cli_filters_and_usage_errors(cli, trail: dict[str, str]) -> None:
    result = cli("audit", "list", "--action", "archive.update", "--json")
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)["entries"]
    assert {e["object_id"] for e in entries} == {trail["plain"], trail["secret"]}
    only = json.loads(
        cli("audit", "list", "--object", f"archive:{trail['plain']}", "--json").stdout
    )["entries"]
    assert only and {e["object_id"] for e in only} == {trail["plain"]}
    by_id = json.loads(cli("audit", "list", "--object", trail["plain"], "--json").stdout)
    assert {e["object_id"] for e in by_id["entries"]} == {trail["plain"]}
    users = json.loads(cli("audit", "list", "--object", "user", "--json").stdout)["entries"]
    assert users and {e["object_type"] for e in users} == {"user"}
    assert json.loads(cli("audit", "list", "--actor", "nobody", "--json").stdout)["entries"] == []
    text = cli("audit", "list", "--action", "archive.update")
    assert "notes" in text.stdout and "已搬迁" in text.stdout

    bad_date = cli("audit", "list", "--since", "2026-02-30")
    assert bad_date.returncode == 2 and len(bad_date.stderr.strip().splitlines()) == 1
    backwards = cli("audit", "list", "--since", "2026-03-02", "--until", "2026-03-01")
    assert backwards.returncode == 2
    bad_outcome = cli("audit", "export", "--format", "xml", "-o", "x")
    assert bad_outcome.returncode == 2


def test_jsonl_export_verifies_offline_and_a_tampered_line_is_caught(
    cli, trail: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "trail.jsonl"
    result = cli("audit", "export", "--format", "jsonl", "-o", str(target), "--json")
    assert result.returncode == 0, result.stderr
    lines = target.read_text(encoding="utf-8").splitlines()
    assert json.loads(result.stdout)["entries"] == len(lines)
    first = json.loads(lines[0])
    assert first["seq"] == 1 and {"prev_hash", "entry_hash", "outcome", "at"} <= set(first)

    ok = cli("audit", "verify-export", str(target))
    assert ok.returncode == 0, ok.stderr
    assert f"{len(lines)} hashes recomputed" in ok.stdout

    # Change one value of one line, as someone editing the copy would.
    index = next(i for i, line in enumerate(lines) if "已搬迁" in line)
    lines[index] = lines[index].replace("已搬迁", "未搬迁")
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(lines) + "\n", encoding="utf-8")
    caught = cli("audit", "verify-export", str(tampered))
    assert caught.returncode == 1
    assert f"line {index + 1} does not verify" in caught.stderr
    assert len(caught.stderr.strip().splitlines()) == 1

    # Dropping a line in the middle breaks the link of the next one.
    removed = tmp_path / "removed.jsonl"
    original = target.read_text(encoding="utf-8").splitlines()
    removed.write_text("\n".join(original[:2] + original[3:]) + "\n", encoding="utf-8")
    report = json.loads(cli("audit", "verify-export", str(removed), "--json").stdout)
    assert report["ok"] is True and report["gaps"] == 1  # a gap, as a filter leaves one
    relinked = [json.loads(line) for line in original]
    relinked[2]["prev_hash"] = "f" * 64
    forged = tmp_path / "forged.jsonl"
    forged.write_text("\n".join(json.dumps(e) for e in relinked) + "\n", encoding="utf-8")
    assert cli("audit", "verify-export", str(forged)).returncode == 1


def test_filtered_csv_export_over_http(
    admin_client: FlaskClient, trail: dict[str, str], database: Database
) -> None:
    response = admin_client.get("/audit/export?format=csv&action=archive.update")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["action"] for row in rows] == ["archive.update", "archive.update"]
    assert json.loads(rows[0]["after"])["notes"] == "已搬迁"
    report = verify_export(text)
    assert report.ok and report.verified == 2
    jsonl = admin_client.get("/audit/export?format=jsonl").get_data(as_text=True)
    assert verify_export(jsonl).ok
    exported = _entries(database, "audit.export")
    assert [e.after["format"] for e in exported] == ["csv", "jsonl"]
    assert exported[0].after["filters"] == {"action": "archive.update"}
    assert exported[0].after["entries"] == 2


def test_viewing_is_audited_once_per_page(
    admin_client: FlaskClient, trail: dict[str, str], database: Database, cli
) -> None:
    admin_client.get("/audit?action=archive.update&outcome=ok")
    cli("audit", "list", "--actor", "admin", "--limit", "3")
    views = _entries(database, "audit.view")
    assert len(views) == 2
    assert views[0].after["filters"] == {"action": "archive.update", "outcome": "ok"}
    assert views[0].after["shown"] == 2
    assert views[1].after["filters"] == {"actor": "admin"} and views[1].after["shown"] == 3
    with database.session() as session:
        assert verify_chain(session).ok


def test_values_about_archives_above_the_readers_clearance_are_withheld(
    client: FlaskClient, make_user, trail: dict[str, str], cli, tmp_path: Path
) -> None:
    make_user("lowaud", "auditor", "internal")
    listing = json.loads(
        cli("audit", "list", "--action", "archive.*", "--as", "lowaud", "--json").stdout
    )["entries"]
    secret = [e for e in listing if e["object_id"] == trail["secret"]]
    plain = [e for e in listing if e["object_id"] == trail["plain"]]
    assert secret and all(e["withheld"] and e["after"] is None for e in secret)
    assert plain and not any(e["withheld"] for e in plain)
    assert "机密客户" not in json.dumps(listing, ensure_ascii=False)

    assert login(client, "lowaud", USER_PASSWORD).status_code == 302
    post_form(client, "/language/en", {"next": "/audit"})
    html = client.get("/audit?action=archive.update").get_data(as_text=True)
    assert trail["secret"] in html and "董事会" not in html and "机密客户" not in html
    assert "above your clearance" in html
    assert "已搬迁" in html

    target = tmp_path / "low.jsonl"
    assert (
        cli("audit", "export", "--format", "jsonl", "-o", str(target), "--as", "lowaud").returncode
        == 0
    )
    assert "机密客户" not in target.read_text(encoding="utf-8")
    report = verify_export(target.read_text(encoding="utf-8"))
    assert report.ok and report.withheld >= 2


def test_audit_verify_still_passes_with_refusals_and_failures(
    client: FlaskClient, make_user, cli, trail: dict[str, str]
) -> None:
    make_user("clerk", "staff")
    login(client, "ghost", "whatever-password")
    assert cli("audit", "list", "--as", "clerk").returncode == 1
    result = cli("audit", "verify")
    assert result.returncode == 0, result.stderr
