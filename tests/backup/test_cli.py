"""``archive backup`` and ``archive restore`` as operators run them (the real entry point, in
this process): ``--json`` on stdout, exit 1 with one line for a refusal, exit 2 for a usage
error."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import User
from tests.app.workers import worker_env
from tests.conftest import CliResult, run_cli
from tests.retention_app.conftest import add_document, make_archive

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers


def _one_line_error(result: CliResult) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_backup_and_restore_through_the_command_line(
    container: Container, admin: User, settings: Settings, make_target, tmp_path: Path
) -> None:
    archive = make_archive(container, admin)
    number = add_document(
        container, admin, archive, "voucher", tmp_path / "f", document_date=date(2020, 6, 1)
    )
    source_env = worker_env(settings)
    dest = tmp_path / "backup"

    made = run_cli(source_env, "backup", str(dest), "--json")
    assert made.returncode == 0, made.stderr
    document = json.loads(made.stdout)
    assert document["path"] == str(dest)
    assert document["key_store"] == {"archives": 1, "objects": 3}
    assert (dest / "manifest.json").exists()

    again = run_cli(source_env, "backup", str(dest), "--json")
    assert again.returncode == 1
    assert again.stdout == ""
    assert "not empty" in _one_line_error(again)

    refused = run_cli(source_env, "backup", str(tmp_path / "other"), "--as", "nobody")
    assert refused.returncode == 1
    assert "nobody" in _one_line_error(refused)

    target = make_target()
    target_env = {
        **worker_env(target),
        "ARCHIVE_MASTER_KEY": target.master_key or "",
    }
    # No destruction ledger at hand (no ARCHIVE_LEDGER_DIR, no --ledger): refused, unless
    # the operator says to go without one.
    unreplayed = run_cli(target_env, "restore", str(dest), "--json")
    assert unreplayed.returncode == 1 and unreplayed.stdout == ""
    assert "--without-ledger" in _one_line_error(unreplayed)
    both = run_cli(target_env, "restore", str(dest), "--ledger", str(tmp_path), "--without-ledger")
    assert both.returncode == 2 and "Traceback" not in both.stderr
    restored = run_cli(target_env, "restore", str(dest), "--without-ledger", "--json")
    assert restored.returncode == 0, restored.stderr
    report = json.loads(restored.stdout)
    assert report["backup_id"] == document["backup_id"]
    assert report["indexed"] == 1
    assert report["ledger"] is None and report["replayed"] == []

    twice = run_cli(target_env, "restore", str(dest), "--without-ledger")
    assert twice.returncode == 1
    assert "refusing to restore" in _one_line_error(twice)

    chain = run_cli(target_env, "audit", "verify", "--json")
    assert chain.returncode == 0, chain.stderr
    assert json.loads(chain.stdout)["ok"] is True
    inspection = run_cli(target_env, "verify", "--json")
    assert inspection.returncode == 0, inspection.stdout
    found = run_cli(target_env, "search", "voucher", "--json")
    assert [hit["document"] for hit in json.loads(found.stdout)["hits"]] == [number]

    usage = run_cli(target_env, "restore")
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr
