"""Someone with write access to the database cuts the newest audit entries and rewrites the
head row to match: the chain alone still links, but the signed checkpoints kept outside the
database do not let it pass. Checkpoints verify offline, and a forged one is a finding."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from sqlalchemy import delete, select, update

from archive_app.infra.container import Container
from archive_app.infra.db import Database
from archive_app.models import AuditEntry, AuditHead, User
from archive_app.services import audit
from archive_app.services.retention import batches, destruction
from tests.retention_app.conftest import add_document, make_archive

OLD = date(1990, 3, 5)


def _truncate(database: Database, keep: int) -> None:
    """What an attacker at the database does: drop entries after ``keep``, fix the head."""
    with database.session() as session:
        last = session.scalar(select(AuditEntry).where(AuditEntry.seq == keep))
        assert last is not None
        session.execute(delete(AuditEntry).where(AuditEntry.seq > keep))
        session.execute(update(AuditHead).values(last_seq=last.seq, last_hash=last.entry_hash))


def _head(database: Database) -> int:
    with database.session() as session:
        head = session.get(AuditHead, 1)
        assert head is not None
        return head.last_seq


def _record(database: Database, admin: User, n: int) -> None:
    with database.session() as session:
        for i in range(n):
            audit.record(session, admin, "test.event", "test", str(i))


def test_truncation_with_a_rewritten_head_is_detected(
    cli, database: Database, admin: User, tmp_path: Path
) -> None:
    _record(database, admin, 5)
    signed = json.loads(
        cli("audit", "checkpoint", "--json", "--export", str(tmp_path / "cp.json")).stdout
    )
    assert signed["seq"] == _head(database)
    assert json.loads(cli("audit", "verify", "--json").stdout)["ok"] is True

    _record(database, admin, 3)  # after the checkpoint: not covered yet, so may go unseen
    _truncate(database, signed["seq"] - 2)
    result = cli("audit", "verify")
    assert result.returncode == 1
    assert "truncated" in result.stderr and str(signed["seq"]) in result.stderr
    report = json.loads(cli("audit", "verify", "--json").stdout)
    assert report["ok"] is False and report["checkpoint"]["seq"] == signed["seq"]


def test_an_exported_checkpoint_catches_what_was_removed_with_the_instance_files(
    cli, database: Database, admin: User, settings, tmp_path: Path
) -> None:
    _record(database, admin, 4)
    exported = tmp_path / "kept-by-the-auditor.json"
    assert cli("audit", "checkpoint", "--export", str(exported)).returncode == 0
    seq = _head(database)
    # The attacker also deletes the instance's own checkpoint files.
    shutil.rmtree(settings.home / "audit" / "checkpoints")
    _truncate(database, seq - 1)
    assert cli("audit", "verify").returncode == 0  # nothing left in the instance to say so
    result = cli("audit", "verify", "--checkpoint", str(exported))
    assert result.returncode == 1 and "truncated" in result.stderr

    # The export verifies offline with the published public key alone.
    public = settings.home / "keys" / "certificate-signing.pub.pem"
    offline = cli(
        "audit", "verify-checkpoint", str(exported), "--public-key", str(public), "--json"
    )
    assert offline.returncode == 0 and json.loads(offline.stdout)["seq"] == seq
    forged = tmp_path / "forged.json"
    document = json.loads(exported.read_text())
    document["checkpoint"]["seq"] = 1
    forged.write_text(json.dumps(document))
    refused = cli("audit", "verify-checkpoint", str(forged), "--public-key", str(public))
    assert refused.returncode == 1 and "signature" in refused.stderr


def test_a_forged_checkpoint_file_in_the_instance_is_reported(
    cli, database: Database, admin: User, settings
) -> None:
    _record(database, admin, 2)
    assert cli("audit", "checkpoint").returncode == 0
    [path] = (settings.home / "audit" / "checkpoints").glob("*.json")
    document = json.loads(path.read_text())
    document["checkpoint"]["entry_hash"] = "0" * 64
    path.write_text(json.dumps(document))
    result = cli("audit", "verify")
    assert result.returncode == 1 and "signature" in result.stderr


def test_every_destruction_signs_the_head(
    container: Container, admin: User, people: dict[str, User], tmp_path: Path, cli
) -> None:
    archive = make_archive(container, admin)
    old = add_document(container, admin, archive, "voucher", tmp_path / "f", document_date=OLD)
    with container.database.session() as session:
        row, _ = batches.create(session, people["c1"], OLD.replace(year=2026), required_approvals=2)
        batches.review(session, people["c1"], row.number, None, "destroy")
        batches.approve(session, people["c1"], row.number)
        batches.approve(session, people["c2"], row.number)
    with container.database.session() as session:
        report = destruction.run_batch(container, session, people["c3"], row.number)
    assert report.destroyed == [old]
    head = _head(container.database)
    folder = container.settings.home / "audit" / "checkpoints"
    assert [p.name.startswith(f"{head:012d}-") for p in folder.glob("*.json")] == [True]
    # Cutting the destruction's own entries from the trail is now found.
    _truncate(container.database, head - 2)
    result = cli("audit", "verify")
    assert result.returncode == 1 and "truncated" in result.stderr
