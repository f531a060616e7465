"""The embedded broker when several processes use a new broker file at the same moment
(the web server and its worker at first start, two processes serving uploads): every
message is queued, none is refused."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest

TRANSPORT = "archive_app.tasks.embedded_broker:Transport"
PUBLISHERS = 4


def _publish(url: str, body: str, start: float) -> None:
    from kombu import Connection

    with Connection(url, transport=TRANSPORT) as connection:
        channel = connection.default_channel
        while time.time() < start:  # all publishers create tables and queue together
            pass
        channel._put("archive-race", {"body": body})


@pytest.mark.slow
def test_processes_creating_the_broker_and_its_queue_at_once_lose_nothing(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for attempt in range(2):
        path = tmp_path / f"broker-{attempt}.sqlite"
        start = time.time() + 1.0
        processes = [
            context.Process(target=_publish, args=(f"sqlite:///{path}", str(i), start))
            for i in range(PUBLISHERS)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(60)
        assert [p.exitcode for p in processes] == [0] * PUBLISHERS
        with sqlite3.connect(path) as database:
            queued = database.execute("SELECT count(*) FROM kombu_message").fetchone()[0]
        assert queued == PUBLISHERS
