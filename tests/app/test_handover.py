"""Archive export for handover (移交), through the real command line on both databases: the
package holds the originals as filed and the searchable PDFs, a destroyed record only as
its stub, the checklist as PDF and CSV, the archive's audit entries (which verify
offline), and a manifest whose SHA-256 of every file ``archive archives verify-export``
checks; an altered or added file is named. Only compliance users and admins export; the
refusal writes nothing and is recorded; no decrypted copy is left in the instance's
private temporary folder, and an export killed midway (SIGKILL, a real process) leaves no
package, its partial copy only there, swept once its process is gone."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import stat
import zipfile
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from archive_app.errors import CannotWrite
from archive_app.infra import scratch
from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import AuditEntry, Document, User
from archive_app.services import handover
from archive_app.services.intake import IntakeItem, take_in
from archive_app.services.retention import batches, destruction
from archive_app.services.retention.certificate_files import ensure_signing_key
from tests.app.workers import kill_when
from tests.retention_app.conftest import add_document, make_archive

pytestmark = pytest.mark.slow

OLD = date(1990, 3, 5)  # a voucher eligible for destruction since 2021
RECENT = date(2026, 6, 1)


def destroy_eligible(container: Container, people: dict[str, User]) -> None:
    with container.database.session() as session:
        row, _ = batches.create(session, people["c1"], date.today(), required_approvals=2)
        number = row.number
    with container.database.session() as session:
        batches.review(session, people["c1"], number, None, "destroy")
    for name in ("c1", "c2"):
        with container.database.session() as session:
            batches.approve(session, people[name], number)
    with container.database.session() as session:
        destruction.run_batch(container, session, people["c3"], number)


def test_the_package_holds_everything_and_verifies_against_its_manifest(
    cli, container: Container, settings: Settings, admin: User, people, tmp_path: Path
) -> None:
    ensure_signing_key(settings)
    archive = make_archive(container, admin)
    voucher = add_document(container, admin, archive, "voucher", tmp_path / "in", document_date=OLD)
    contract = add_document(
        container, admin, archive, "contract", tmp_path / "in", document_date=RECENT
    )
    destroy_eligible(container, people)
    with container.database.session() as session:
        kept = session.scalar(select(Document).where(Document.number == contract))
        assert kept is not None and kept.sha256
        original_sha = kept.sha256

    package = tmp_path / "handover.zip"
    result = cli("archives", "export", archive, "-o", str(package), "--json", "--as", "comp1")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["documents"], summary["destroyed"]) == (2, 1)

    with zipfile.ZipFile(package) as handed:
        names = set(handed.namelist())
        manifest = json.loads(handed.read("manifest.json"))
        assert f"documents/{contract}/original.pdf" in names
        assert f"documents/{contract}/searchable.pdf" in names
        assert hashlib.sha256(handed.read(f"documents/{contract}/original.pdf")).hexdigest() == (
            original_sha
        )
        # The destroyed voucher is its stub: no content, the destruction named.
        assert {n for n in names if n.startswith(f"documents/{voucher}/")} == {
            f"documents/{voucher}/stub.json"
        }
        stub = json.loads(handed.read(f"documents/{voucher}/stub.json"))
        assert stub["destroyed"] and stub["destruction"]["certificate"]
        assert handed.read("checklist.pdf").startswith(b"%PDF")
        checklist = list(
            csv.DictReader(io.StringIO(handed.read("checklist.csv").decode("utf-8-sig")))
        )
        assert [row["document"] for row in checklist] == [contract]
        audit_lines = handed.read("audit.jsonl")
        assert b"archive.create" in audit_lines and voucher.encode() in audit_lines
        (tmp_path / "audit.jsonl").write_bytes(audit_lines)
    assert manifest["archive"]["number"] == archive
    assert {d["number"]: d["destroyed"] for d in manifest["documents"]} == {
        voucher: True,
        contract: False,
    }
    assert {item["path"] for item in manifest["files"]} == names - {"manifest.json"}

    checked = cli("archives", "verify-export", str(package), "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["files"] == len(names) - 1
    audit_check = cli("audit", "verify-export", str(tmp_path / "audit.jsonl"), "--json")
    assert audit_check.returncode == 0, audit_check.stdout + audit_check.stderr

    # Nothing decrypted is left behind in the instance's private temporary folder.
    assert not list((settings.home / "tmp").glob("*/handover-*"))
    with container.database.session() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "archive.export")
        ).one()
        assert entry.actor_name == "comp1" and entry.object_id == archive

    # An altered file and a slipped-in file are both named.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "checklist.csv":
                data = data.replace(contract.encode(), b"KH-999999-HT-2026-0001")
            target.writestr(name, data)
        target.writestr("extra.txt", b"not handed over")
    broken = cli("archives", "verify-export", str(tampered))
    assert broken.returncode == 1
    assert "checklist.csv differs" in broken.stderr and "extra.txt is not in the manifest" in (
        broken.stderr
    )


def test_only_compliance_and_admins_export(
    cli, container: Container, settings: Settings, admin: User, make_user, tmp_path: Path
) -> None:
    archive = make_archive(container, admin)
    make_user("li", "archivist")
    make_user("aud", "auditor")
    for user in ("li", "aud"):
        out = tmp_path / f"{user}.zip"
        refused = cli("archives", "export", archive, "-o", str(out), "--as", user)
        assert refused.returncode == 1 and "may not export an archive" in refused.stderr
        assert not out.exists() and not out.with_name(out.name + ".part").exists()
    with container.database.session() as session:
        refusals = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "access.refused")
        ).all()
        assert {entry.actor_name for entry in refusals} == {"li", "aud"}
    # A destination that cannot take the package (a folder is in its place): refused, the
    # folder untouched, and the package built in the private temporary folder gone with it.
    occupied = tmp_path / "occupied.zip"
    occupied.mkdir()
    (occupied / "keep").write_text("x")
    with pytest.raises(CannotWrite), container.database.session() as session:
        handover.export_archive(container, session, admin, archive, occupied)
    assert (occupied / "keep").exists() and not list((settings.home / "tmp").glob("*/handover-*"))
    with container.database.session() as session:
        assert not session.scalars(
            select(AuditEntry).where(AuditEntry.action == "archive.export")
        ).all()
    ok = cli("archives", "export", archive, "-o", str(tmp_path / "admin.zip"))
    assert ok.returncode == 0, ok.stderr
    assert cli("archives", "verify-export", str(tmp_path / "admin.zip")).returncode == 0


def test_an_export_killed_midway_leaves_no_package_and_its_partial_copy_is_swept(
    cli, container: Container, settings: Settings, admin: User, people, tmp_path: Path
) -> None:
    archive = make_archive(container, admin)
    # Originals of noise (which does not compress), so that building the package takes a
    # while: the kill lands while it is being written.
    rng = random.Random(7)
    incoming = tmp_path / "in"
    incoming.mkdir()
    items = []
    for index in range(4):
        path = incoming / f"noise-{index}.png"
        Image.frombytes("RGB", (1600, 1600), rng.randbytes(1600 * 1600 * 3)).save(path)
        items.append(IntakeItem(path, path.name))
    assert {r.status for r in take_in(container, admin.id, archive, items)} == {"queued"}
    out = tmp_path / "out"
    out.mkdir()
    package = out / "handover.zip"
    private = settings.home / "tmp"
    command = ["archives", "export", archive, "-o", str(package), "--as", "comp1"]
    kill_when(
        settings,
        command,
        lambda: any(
            built.stat().st_size > 2**20 for built in private.glob("*/handover-*/package.zip")
        ),
        tmp_path / "export.log",
    )
    # No package and no partial one at the destination; the decrypted partial copy is only
    # in the instance's private folder (0700), and no export was recorded.
    assert list(out.iterdir()) == []
    [left] = [folder.parent for folder in private.glob("*/handover-*/package.zip")]
    assert stat.S_IMODE(left.stat().st_mode) == 0o700
    with container.database.session() as session:
        assert (
            session.scalars(select(AuditEntry).where(AuditEntry.action == "archive.export")).all()
            == []
        )
    # What a starting worker does first: the dead process's folder goes.
    assert left.parent in scratch.sweep(settings.home)
    assert not left.exists()

    result = cli(*command, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["documents"] == 4
    checked = cli("archives", "verify-export", str(package))
    assert checked.returncode == 0, checked.stdout + checked.stderr
