"""Driving a real ``archive serve`` over loopback, for the benchmarks that measure pages.

``free_port()`` a loopback port nobody listens on; ``wait_listening(base, process, log)``
until ``/login`` answers (exits with the server's log if it dies first);
``logged_in(base, username, password)`` a ``requests`` session logged in through the login
form, and the CSRF token its pages carry (for posts and uploads).
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path

import requests

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(
    base: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server at {base} exited:\n{log.read_text()[-2000:]}")
        try:
            if requests.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the server at {base} did not answer in {timeout:.0f} s")


def logged_in(base: str, username: str, password: str) -> tuple[requests.Session, str]:
    client = requests.Session()
    token = CSRF_META.search(client.get(f"{base}/login", timeout=30).text)
    assert token, "no CSRF token on /login"
    answer = client.post(
        f"{base}/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 302, f"login: {answer.status_code}"
    token = CSRF_META.search(client.get(f"{base}/archives", timeout=30).text)
    assert token, "no CSRF token after login"
    return client, token.group(1)
