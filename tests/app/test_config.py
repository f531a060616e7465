"""Settings come from ARCHIVE_* variables and a bad value stops start-up in one line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archive_app.errors import SettingsError
from archive_app.infra.config import Settings
from tests.conftest import run_cli


def test_defaults_put_everything_in_the_instance_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"ARCHIVE_HOME": str(tmp_path / "inst")})
    assert settings.home == tmp_path / "inst"
    assert settings.database_url == f"sqlite:///{tmp_path / 'inst' / 'archive.db'}"
    assert settings.archive_number_pattern == "KH-{seq:06d}"
    assert settings.resolved_master_key_file == tmp_path / "inst" / "keys" / "master.key"


def test_postgres_url_and_options_are_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ARCHIVE_HOME": str(tmp_path),
            "ARCHIVE_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "ARCHIVE_NUMBER_PATTERN": "CUST{seq:05d}",
            "ARCHIVE_SECURE_COOKIES": "1",
            "ARCHIVE_LANGUAGE": "en",
        }
    )
    assert not settings.is_sqlite
    assert settings.archive_number_pattern.format(seq=7) == "CUST00007"
    assert settings.secure_cookies is True
    assert settings.default_language == "en"


def test_ocr_engine_and_own_company_names_are_read(tmp_path: Path) -> None:
    default = Settings.from_env({"ARCHIVE_HOME": str(tmp_path)})
    assert default.ocr_engine == "auto" and default.own_company_names == ()
    settings = Settings.from_env(
        {
            "ARCHIVE_HOME": str(tmp_path),
            "ARCHIVE_OCR_ENGINE": "Tesseract",
            "ARCHIVE_OWN_COMPANY_NAMES": "上海明远贸易有限公司; Mingyuan Trading Co., Ltd ;",
        }
    )
    assert settings.ocr_engine == "tesseract"
    assert settings.own_company_names == ("上海明远贸易有限公司", "Mingyuan Trading Co., Ltd")


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("ARCHIVE_DATABASE_URL", "mysql://x/y", "unsupported database"),
        ("ARCHIVE_NUMBER_PATTERN", "KH-000", "exactly one {seq}"),
        ("ARCHIVE_NUMBER_PATTERN", "KH-{seq}-{year}", "exactly one {seq}"),
        ("ARCHIVE_NUMBER_PATTERN", "KH {seq}", "may only use"),
        ("ARCHIVE_NUMBER_PATTERN", "KH-{seq:s}", "cannot format"),
        ("ARCHIVE_SECURE_COOKIES", "maybe", "yes/no"),
        ("ARCHIVE_SESSION_HOURS", "ten", "whole number"),
        ("ARCHIVE_SESSION_HOURS", "0", "between 1 and 720"),
        ("ARCHIVE_LANGUAGE", "fr", "not one of"),
        ("ARCHIVE_SECRET_KEY", "short", "at least 16"),
        ("ARCHIVE_BROKER_URL", "http://x", "redis://"),
        ("ARCHIVE_OCR_ENGINE", "easyocr", "not one of auto, paddle, tesseract"),
        ("ARCHIVE_CONSUME_DIR", "/srv/scans", "ARCHIVE_CONSUME_USER"),
        ("ARCHIVE_CONSUME_SETTLE_SECONDS", "soon", "not a number"),
        ("ARCHIVE_CONSUME_SETTLE_SECONDS", "0", "between 0.1 and 3600"),
        ("ARCHIVE_LOGIN_ACCOUNT_LIMIT", "five a day", "5 per 15 minutes"),
        ("ARCHIVE_LOGIN_ADDRESS_LIMIT", "0 per minute", "5 per 15 minutes"),
        ("ARCHIVE_API_USER_LIMIT", "lots", "5 per 15 minutes"),
        ("ARCHIVE_API_ADDRESS_LIMIT", "-3 per minute", "5 per 15 minutes"),
        ("ARCHIVE_RATELIMIT_STORAGE_URL", "memcached://x", "redis://"),
    ],
)
def test_invalid_settings_name_the_variable(
    variable: str, value: str, fragment: str, tmp_path: Path
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"ARCHIVE_HOME": str(tmp_path), variable: value})
    message = str(caught.value)
    assert variable in message
    assert fragment in message
    assert "\n" not in message


def test_cli_stops_with_one_line_on_a_bad_setting(tmp_path: Path) -> None:
    env = {**os.environ, "ARCHIVE_HOME": str(tmp_path), "ARCHIVE_NUMBER_PATTERN": "nope"}
    result = run_cli(env, "archives", "list")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "archive: invalid setting ARCHIVE_NUMBER_PATTERN: must contain exactly one {seq} field, e.g. KH-{seq:06d}"
    ]


def test_the_ledgers_second_copy_must_lie_outside_the_instance_folder(tmp_path: Path) -> None:
    home = tmp_path / "inst"
    outside = Settings.from_env(
        {"ARCHIVE_HOME": str(home), "ARCHIVE_LEDGER_DIR": str(tmp_path / "offsite")}
    )
    assert outside.ledger_dir == tmp_path / "offsite"
    assert Settings.from_env({"ARCHIVE_HOME": str(home)}).ledger_dir is None
    for inside in (home, home / "ledger"):
        with pytest.raises(SettingsError, match=r"ARCHIVE_LEDGER_DIR.*inside the instance"):
            Settings.from_env({"ARCHIVE_HOME": str(home), "ARCHIVE_LEDGER_DIR": str(inside)})
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(SettingsError, match="not a folder"):
        Settings.from_env(
            {"ARCHIVE_HOME": str(home), "ARCHIVE_LEDGER_DIR": str(tmp_path / "a-file")}
        )
