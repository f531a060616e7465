"""The instance folder is private to its account: new instances, upgraded ones, and the files
the web app and the command line create while they run. A missing master key says how to
get the data back instead of sending the operator to ``archive init``."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from archive_app.infra.config import Settings
from tests.app.workers import worker_env
from tests.conftest import run_cli

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers


def _loose(home: Path) -> list[str]:
    """Every path under ``home`` that group or others may access."""
    found = []
    for folder, _folders, files in os.walk(home):
        for path in (Path(folder), *(Path(folder) / name for name in files)):
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode & 0o077:
                found.append(f"{path.relative_to(home)} {oct(mode)}")
    return found


def _env(settings: Settings, home: Path) -> dict[str, str]:
    env = worker_env(settings, ARCHIVE_HOME=str(home), ARCHIVE_ADMIN_PASSWORD="a" * 16)
    env.pop("ARCHIVE_SECRET_KEY", None)
    return env


def _use(env: dict[str, str], tmp_path: Path) -> None:
    """Create, file and search something, so database, store, index and broker all write."""
    scan = tmp_path / "scan.txt"
    scan.write_text("not a document")
    for args in (
        ("archives", "create", "--name", "上海某某贸易有限公司", "--json"),
        ("search", "合同", "--json"),
        ("audit", "checkpoint"),
    ):
        result = run_cli(env, *args)
        assert result.returncode == 0, (args, result.stderr)


def test_a_new_instance_is_private(settings: Settings, tmp_path: Path) -> None:
    home = tmp_path / "new"
    env = _env(settings, home)
    previous = os.umask(0o022)  # as an operator's shell would have it, for the commands
    try:
        assert run_cli(env, "init").returncode == 0
        _use(env, tmp_path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert _loose(home) == []


def test_an_upgraded_instance_is_made_private(settings: Settings, tmp_path: Path) -> None:
    home = tmp_path / "old"
    env = _env(settings, home)
    assert run_cli(env, "init").returncode == 0
    _use(env, tmp_path)
    # As an instance made before the rule: world-readable folders and files.
    for folder, _folders, files in os.walk(home):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(Path(folder) / name, 0o644)
    os.chmod(home / "keys" / "master.key", 0o600)  # the store refuses a readable key
    assert _loose(home)
    upgraded = run_cli(env, "init")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "private" in upgraded.stderr  # the steps are progress, on the terminal
    assert _loose(home) == []


def test_a_missing_master_key_says_how_to_recover(settings: Settings, tmp_path: Path) -> None:
    home = tmp_path / "lost"
    env = _env(settings, home)
    assert run_cli(env, "init").returncode == 0
    (home / "keys" / "master.key").rename(tmp_path / "kept-elsewhere.key")
    for args in (("verify",), ("archives", "create", "--name", "x")):
        result = run_cli(env, *args)
        assert result.returncode == 1
        assert "put the key file back" in result.stderr
        assert "do not run `archive init`" in result.stderr
        assert "Traceback" not in result.stderr
    # And init itself refuses rather than making a key that reads nothing.
    again = run_cli(env, "init")
    assert again.returncode == 1 and "a new key cannot read the data" in again.stderr
