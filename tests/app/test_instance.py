"""`archive init` and the master key: created once with 0600, never replaced, and a
missing or wrong key stops the app and the CLI with one clear line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from archive_app.app import create_app
from archive_app.errors import AppError
from archive_app.infra.config import Settings
from archive_app.infra.vault import store_root
from storage import StorageError, encode_master_key, generate_master_key
from tests.conftest import CliResult, run_cli

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers


def _archive(home: Path, database_url: str, *args: str, **env: str) -> CliResult:
    return run_cli(
        {
            **os.environ,
            "ARCHIVE_HOME": str(home),
            "ARCHIVE_DATABASE_URL": database_url,
            "ARCHIVE_ADMIN_PASSWORD": "init-admin-password",
            **env,
        },
        *args,
    )


def test_init_creates_the_master_key_once(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "fresh"
    first = _archive(home, database_url, "init")
    assert first.returncode == 0, first.stderr
    key_file = home / "keys" / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_bytes()
    second = _archive(home, database_url, "init")
    assert second.returncode == 0, second.stderr
    assert key_file.read_bytes() == key
    assert "created the master key" not in second.stderr

    # The key never reaches the database or the logs.
    assert key.strip().decode() not in first.stderr + first.stdout


def test_init_refuses_a_new_key_over_an_existing_store(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "lost-key"
    assert _archive(home, database_url, "init").returncode == 0
    created = _archive(home, database_url, "archives", "create", "--name", "甲公司")
    assert created.returncode == 0, created.stderr
    (home / "keys" / "master.key").unlink()
    again = _archive(home, database_url, "init")
    assert again.returncode == 1
    lines = again.stderr.strip().splitlines()
    assert "master key" in lines[-1] and "missing" in lines[-1]
    assert "Traceback" not in again.stderr
    assert not (home / "keys" / "master.key").exists()


def test_wrong_or_missing_key_stops_the_app(settings: Settings) -> None:
    create_app(settings).extensions["archive"].close()  # the right key opens
    wrong = settings.with_overrides(master_key=encode_master_key(generate_master_key()))
    with pytest.raises(StorageError) as caught:
        create_app(wrong)
    assert "\n" not in str(caught.value)
    assert str(store_root(settings)) in str(caught.value)
    missing = settings.with_overrides(master_key_file=settings.home / "nowhere.key")
    with pytest.raises((StorageError, AppError)) as caught_missing:
        create_app(missing)
    assert "master key" in str(caught_missing.value) and "missing" in str(caught_missing.value)


def test_cli_refuses_a_wrong_key_in_one_line(settings: Settings) -> None:
    result = _archive(
        settings.home,
        settings.database_url,
        "archives",
        "create",
        "--name",
        "乙公司",
        ARCHIVE_MASTER_KEY=encode_master_key(generate_master_key()),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "master key does not open the store" in result.stderr.strip().splitlines()[-1]
