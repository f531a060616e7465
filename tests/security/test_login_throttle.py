"""Throttling of failed logins: an account locks after its allowance of failures and is
unlocked by time or by an admin (the command and the button on the user page), all in the
audit trail; a remote address is throttled across two real web processes that share
their counts in Redis, with 429 and ``Retry-After``."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from archive_app.app import create_app
from archive_app.infra.config import Settings
from archive_app.infra.db import Database
from archive_app.models import AuditEntry
from tests.app.conftest import REDIS_URL
from tests.app.helpers import login, post_form
from tests.app.test_serve import _free_port
from tests.app.workers import worker_env
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD, unavailable

pytestmark = pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)


@pytest.fixture
def throttled_app(settings: Settings) -> Iterator[Flask]:
    application = create_app(
        settings.with_overrides(
            login_account_limit="3 per 2 seconds", login_address_limit="100 per 1 minute"
        ),
        testing=True,
    )
    yield application
    application.extensions["archive"].close()


def entries(database: Database, action: str) -> list[AuditEntry]:
    with database.session() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            )
        )


def attempt(app: Flask, password: str):
    """A login as clerk from a fresh browser (the same remote address every time)."""
    return login(app.test_client(), "clerk", password)


def fail_three_times(app: Flask) -> None:
    for _ in range(3):
        assert attempt(app, "wrong-password").status_code == 401


def test_account_locks_and_is_unlocked_by_admin_and_by_time(
    throttled_app: Flask, make_user, database: Database, cli
):
    make_user("clerk", "archivist")
    app = throttled_app
    fail_three_times(app)
    # Locked: even the right password is refused, with the time to wait.
    locked = attempt(app, USER_PASSWORD)
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 2
    assert "登录失败次数过多" in locked.get_data(as_text=True)  # the default language
    [lock] = entries(database, "user.locked")
    assert lock.object_id == "clerk" and lock.after["failures"] == 3
    assert any(e.after["reason"] == "throttled" for e in entries(database, "user.login_failed"))

    # By the command line.
    result = cli("users", "unlock", "clerk")
    assert result.returncode == 0, result.stderr
    assert attempt(app, USER_PASSWORD).status_code == 302
    [by_admin] = entries(database, "user.unlocked")
    assert by_admin.after == {"by": "admin"} and by_admin.actor_name == "admin"
    assert cli("users", "unlock", "clerk").returncode != 0  # not locked any more

    # By the button on the user page.
    fail_three_times(app)
    admin = app.test_client()
    assert login(admin, "admin", ADMIN_PASSWORD).status_code == 302
    page = admin.get("/admin/users/clerk").get_data(as_text=True)
    assert "因登录失败被锁定" in page
    unlocked = post_form(admin, "/admin/users/clerk/unlock", {}, page="/admin/users/clerk")
    assert unlocked.status_code == 302
    assert "未锁定" in admin.get("/admin/users/clerk").get_data(as_text=True)
    assert attempt(app, USER_PASSWORD).status_code == 302

    # By time: the lock lasts the limit's period (2 seconds here).
    fail_three_times(app)
    refused = attempt(app, USER_PASSWORD)
    assert refused.status_code == 429
    time.sleep(int(refused.headers["Retry-After"]))
    assert attempt(app, USER_PASSWORD).status_code == 302
    by_time = entries(database, "user.unlocked")[-1]
    assert by_time.after == {"by": "time"} and by_time.actor_name == "system"
    assert [e.after["by"] for e in entries(database, "user.unlocked")] == [
        "admin",
        "admin",
        "time",
    ]


class Server:
    """``archive serve --no-worker`` on a loopback port."""

    def __init__(self, settings: Settings, log: Path, **env: str) -> None:
        self.port = _free_port()
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "archive_app", "serve", "--no-worker", "--port", str(self.port)],
            env=worker_env(settings, **env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{self.url}/login", timeout=2)
                return
            except requests.ConnectionError:
                assert self.process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)

    def login(self, username: str, password: str) -> requests.Response:
        with requests.Session() as browser:
            page = browser.get(f"{self.url}/login", timeout=10).text
            token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
            return browser.post(
                f"{self.url}/login",
                data={"username": username, "password": password, "csrf_token": token},
                allow_redirects=False,
                timeout=10,
            )

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self._log.close()


def test_an_address_is_throttled_across_two_web_processes_sharing_redis(
    settings: Settings, database: Database, tmp_path: Path
):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {error}")
    env = {
        "ARCHIVE_RATELIMIT_STORAGE_URL": REDIS_URL,
        "ARCHIVE_QUEUE": f"test-{uuid.uuid4().hex[:12]}",  # the counts' key prefix
        "ARCHIVE_LOGIN_ADDRESS_LIMIT": "4 per 1 minute",
    }
    first = Server(settings, tmp_path / "first.log", **env)
    second = Server(settings, tmp_path / "second.log", **env)
    try:
        for server, name in ((first, "nobody"), (second, "someone"), (first, "x"), (second, "y")):
            assert server.login(name, "wrong-password").status_code == 401
        for server in (first, second):
            throttled = server.login("admin", ADMIN_PASSWORD)
            assert throttled.status_code == 429
            assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    finally:
        first.close()
        second.close()
    throttled_entries = [
        e for e in entries(database, "user.login_failed") if e.after["reason"] == "throttled"
    ]
    assert [e.object_id for e in throttled_entries] == ["admin", "admin"]
