"""Which process is this, and is another one gone?

Workers and writers of objects in flight record the host name and process id of the
process doing the work. Another process on the *same* host can tell for sure that such a
process has ended (no such process, or only its zombie is left); about a process on
another host it can tell nothing, and callers fall back on heartbeats or timeouts.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessId:
    hostname: str
    pid: int


def current() -> ProcessId:
    return ProcessId(socket.gethostname(), os.getpid())


def is_gone(hostname: str, pid: int) -> bool:
    """True when the process certainly ended: it ran on this host and no longer runs.

    A reused process id makes a dead process look alive, never the other way round, so
    callers only ever wait longer than needed."""
    return hostname == socket.gethostname() and not is_running(pid)


def is_running(pid: int) -> bool:
    """Whether process ``pid`` of this host exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    # A killed child stays a zombie until its parent reaps it: it does no work any more.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return not Path("/proc/self/stat").exists()  # ended just now, unless there is no /proc
    except OSError:
        return True
    state = stat.rsplit(")", 1)[-1].split()[:1]
    return state not in (["Z"], ["X"])
