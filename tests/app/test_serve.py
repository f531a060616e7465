"""``archive serve`` supervises its embedded worker, as real processes: a killed worker is
restarted; SIGTERM stops the server, its worker and everything the worker started; a
server killed with SIGKILL leaves no worker to run beside the next server's; an embedded
worker whose server is gone stops by itself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from archive_app.infra import processes, workers
from archive_app.infra.config import Settings
from archive_app.infra.db import Database
from archive_app.models import Worker, WorkerKind
from tests.app.workers import worker_env

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_kind", ["sqlite"])]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, settings: Settings, log: Path) -> None:
        self.port = _free_port()
        self.log_path = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "archive_app", "serve", "--port", str(self.port)],
                env=worker_env(settings),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def get(self, path: str) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as reply:
            return reply.status

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def server_factory(settings: Settings, tmp_path: Path) -> Iterator[Callable[[], Server]]:
    started: list[Server] = []

    def start() -> Server:
        server = Server(settings, tmp_path / f"serve-{len(started)}.log")
        started.append(server)
        return server

    yield start
    for server in started:
        for pid in _descendants(server.process.pid):
            os.kill(pid, signal.SIGKILL)
        server.close()


def _embedded(database: Database) -> list[Worker]:
    with database.session() as session:
        return [w for w in workers.live_workers(session) if w.kind == WorkerKind.EMBEDDED]


def _wait(condition: Callable[[], bool], what: str, server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{server.output()}"
        time.sleep(0.1)


def _one_worker(database: Database, server: Server, other_than: int | None = None) -> int:
    def ready() -> bool:
        live = _embedded(database)
        return len(live) == 1 and live[0].pid != other_than and _answers(server)

    _wait(ready, "one embedded worker and a server that answers", server)
    return _embedded(database)[0].pid


def _answers(server: Server) -> bool:
    try:
        return server.get("/login") == 200
    except OSError:
        return False


def _descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (children, grandchildren...)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found and processes.is_running(child):
                found.add(child)
                todo.append(child)
    return found


def test_serve_restarts_a_killed_worker_and_stops_everything_on_sigterm(
    settings: Settings, database: Database, server_factory: Callable[[], Server]
) -> None:
    server = server_factory()
    first = _one_worker(database, server)

    os.kill(first, signal.SIGKILL)
    second = _one_worker(database, server, other_than=first)
    assert not processes.is_running(first)
    assert f"background worker (pid {first}) exited with status -9" in server.output()

    family = _descendants(server.process.pid)
    assert second in family
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=60) == 0, server.output()
    assert not [pid for pid in family if processes.is_running(pid)], server.output()
    with database.session() as session:
        row = session.scalars(select(Worker).where(Worker.pid == second)).one()
        assert row.stop_reason == "stopped"


def test_a_killed_server_leaves_no_worker_beside_the_next_one(
    settings: Settings, database: Database, server_factory: Callable[[], Server]
) -> None:
    killed = server_factory()
    stray = _one_worker(database, killed)
    family = _descendants(killed.process.pid)
    killed.process.send_signal(signal.SIGKILL)
    killed.process.wait()

    # Started at once, while the orphaned worker still runs: it is stopped first.
    following = server_factory()
    successor = _one_worker(database, following, other_than=stray)
    assert not [pid for pid in family if processes.is_running(pid)]
    assert [w.pid for w in _embedded(database)] == [successor]
    assert "left behind by a killed server" in following.output()


def test_an_embedded_worker_stops_when_its_server_is_gone(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    stand_in = subprocess.Popen(["sleep", "600"])  # plays the server that started it
    log = tmp_path / "worker.log"
    with log.open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "archive_app", "worker", "--parent", str(stand_in.pid)],
            env=worker_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not _embedded(database):
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        stand_in.kill()
        stand_in.wait()
        assert worker.wait(timeout=60) == 0, log.read_text()
        assert _embedded(database) == []
    finally:
        stand_in.kill()
        if worker.poll() is None:
            worker.kill()
        worker.wait()
