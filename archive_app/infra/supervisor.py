"""Supervising one child process: restart it with backoff when it dies, stop it (and every
process it started) on request. ``archive serve`` supervises its embedded worker so.

Contract of :class:`Supervisor`:

- :meth:`~Supervisor.start` runs the command in a process group of its own, so a Ctrl+C at
  the terminal reaches only the supervising process, which then stops the child in order,
  and so the child's own children (the beat, OCR processes) can be killed with it.
- When the child exits without being asked to, whatever is left of its group is killed,
  ``on_exit(pid, returncode, delay)`` is called, and the command is started again after
  ``delay``: the next value of ``backoff`` (the last one repeats); a child that ran for
  ``stable_after`` seconds before dying starts the sequence over.
- :meth:`~Supervisor.stop` sends SIGTERM to the child, waits ``stop_timeout`` seconds for
  it to finish (a worker finishes its running tasks), then kills its whole group; when it
  returns, no process of the group is left and none will be started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from archive_app.infra import processes

BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


class Supervisor:
    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        on_exit: Callable[[int, int, float], None] | None = None,
        backoff: Sequence[float] = BACKOFF,
        stable_after: float = 60.0,
        stop_timeout: float = 30.0,
    ) -> None:
        self.command = list(command)
        self.env = dict(env) if env is not None else None
        self.on_exit = on_exit
        self.backoff = tuple(backoff)
        self.stable_after = stable_after
        self.stop_timeout = stop_timeout
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    @property
    def pid(self) -> int | None:
        child = self._child
        return child.pid if child is not None and child.poll() is None else None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            child = self._child
        if child is not None:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=self.stop_timeout)
            _kill_group(child.pid)
            child.wait()
        self._thread.join()

    def _run(self) -> None:
        failures = 0
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                child = self._child = subprocess.Popen(
                    self.command, env=self.env, start_new_session=True
                )
            started = time.monotonic()
            returncode = child.wait()
            _kill_group(child.pid)  # what it left running: its beat, its OCR processes
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= self.stable_after:
                failures = 0
            delay = self.backoff[min(failures, len(self.backoff) - 1)]
            failures += 1
            if self.on_exit is not None:
                self.on_exit(child.pid, returncode, delay)
            if self._stopping.wait(delay):
                return


def stop_strays(pids: Sequence[int], *, timeout: float = 30.0) -> None:
    """Stop process-group leaders a supervisor started but no longer supervises (its own
    process was killed): SIGTERM, then their whole groups are killed after ``timeout``."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(map(processes.is_running, pids)):
        time.sleep(0.2)
    for pid in pids:
        _kill_group(pid)


def _kill_group(pgid: int) -> None:
    # ProcessLookupError: nothing is left of the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
