"""The ``archive`` command line as operators use it: its commands, output and exit codes.

The commands run in this process through the real entry point (``run_cli``: the same option
parsing, error mapping and exit codes as the console script, without a second of imports per
command); one test starts the installed ``archive`` console script itself, to show that the
entry point and its exit status reach the shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from archive_app.infra.config import Settings
from archive_app.infra.db import Database
from tests.conftest import CliResult, run_cli


@pytest.fixture
def run(settings: Settings, database_url: str):
    env = {
        **os.environ,
        "ARCHIVE_HOME": str(settings.home),
        "ARCHIVE_DATABASE_URL": database_url,
        "ARCHIVE_ADMIN_PASSWORD": "cli-admin-password",
    }

    def _run(*args: str, stdin: str | None = None) -> CliResult:
        return run_cli(env, *args, stdin=stdin)

    return _run


def _one_line_error(result: CliResult | subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_init_is_safe_to_run_twice(run) -> None:
    first = run("init")
    assert first.returncode == 0, first.stderr
    second = run("init")
    assert second.returncode == 0, second.stderr
    assert "created the admin user" not in second.stderr
    assert "created the session signing key" not in second.stderr


def test_full_cli_flow(run, database_url: str) -> None:
    result = run(
        "users",
        "create",
        "chen",
        "--role",
        "archivist",
        "--password-stdin",
        "--json",
        stdin="chen-password-1\n",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "username": "chen",
        "role": "archivist",
        "clearance": "confidential",
    }

    result = run(
        "archives",
        "create",
        "--name",
        "北京字节跳动科技有限公司",
        "--level",
        "confidential",
        "--as",
        "chen",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"number": "KH-000001"}
    result = run("archives", "create", "--name", "Li Lei", "--type", "person", "--json")
    assert json.loads(result.stdout) == {"number": "KH-000002"}

    result = run("archives", "edit", "KH-000001", "--contact", "王五", "--as", "chen", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["contact"] == "王五"

    result = run("archives", "list", "--json")
    listing = json.loads(result.stdout)
    assert listing["total"] == 2
    assert [row["number"] for row in listing["archives"]] == ["KH-000001", "KH-000002"]

    result = run("archives", "show", "KH-000001", "--json")
    assert json.loads(result.stdout)["name"] == "北京字节跳动科技有限公司"

    result = run("audit", "verify")
    assert result.returncode == 0, result.stderr
    assert "intact" in result.stdout

    database = Database(database_url)
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE audit_entries SET object_id = 'KH-000009' WHERE action = 'archive.create' AND object_id = 'KH-000002'"
            )
        )
    database.dispose()
    result = run("audit", "verify")
    assert result.returncode == 1
    assert _one_line_error(result).startswith("archive: audit trail broken at entry")
    result = run("audit", "verify", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["ok"] is False


# How an error is worded does not depend on the database: once, on PostgreSQL (the server
# deployments use; refusals are written to its audit trail on the way).
@pytest.mark.parametrize("database_kind", ["postgresql"])
def test_user_errors_are_one_line_with_exit_1(run) -> None:
    result = run("archives", "show", "KH-123456")
    assert result.returncode == 1
    assert _one_line_error(result) == "archive: archive 'KH-123456' not found"

    result = run(
        "users",
        "create",
        "staffer",
        "--role",
        "staff",
        "--password-stdin",
        stdin="staff-password-1\n",
    )
    assert result.returncode == 0
    result = run("archives", "create", "--name", "X", "--as", "staffer")
    assert result.returncode == 1
    assert _one_line_error(result) == "archive: user 'staffer' may not create or edit archives"

    result = run("archives", "create", "--name", "X", "--as", "nobody")
    assert result.returncode == 1
    assert _one_line_error(result) == "archive: user 'nobody' not found"

    result = run("users", "create", "Bad Name", "--role", "staff", "--password-stdin", stdin="x\n")
    assert result.returncode == 1
    message = _one_line_error(result)
    assert "username:" in message and "password:" in message


# Option parsing refuses these before any database is opened: once, on SQLite.
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_usage_errors_exit_2(run) -> None:
    result = run("archives", "create")
    assert result.returncode == 2
    assert "Missing option '--name'" in result.stderr
    result = run("archives", "create", "--name", "X", "--level", "top")
    assert result.returncode == 2


@pytest.mark.slow  # a real process: a second or two of imports
def test_uninitialised_instance_is_reported(tmp_path: Path) -> None:
    """The installed console script, in a process of its own: its one-line error and its
    exit status reach the shell."""
    env = {**os.environ, "ARCHIVE_HOME": str(tmp_path / "empty")}
    env.pop("ARCHIVE_DATABASE_URL", None)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "archive"), "archives", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "run `archive init` first" in _one_line_error(result)
