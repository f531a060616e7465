"""Child processes that end with their parent.

Contract: ``run_child(args, timeout=..., env=...)`` runs a program like ``subprocess.run``
(output captured, no check), but on Linux the child receives SIGKILL as soon as the thread
that started it dies, including when the whole worker process is killed with SIGKILL, which
no handler in the parent could catch. Without this a killed worker leaves its ``tesseract``
and ``pdftotext`` children running, reading decrypted pages.

How: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in the child between fork and exec. The signal
follows the *thread* that forked, so callers must wait for the child in that thread (they
do: ``run_child`` blocks). Elsewhere than Linux the child is started plainly.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence

__all__ = ["run_child"]

_PR_SET_PDEATHSIG = 1


def _die_with_parent_hook() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    prctl = libc.prctl
    parent = os.getpid()

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # The parent may have died between fork and prctl: then nobody would signal us.
        if os.getppid() != parent:
            os._exit(1)

    return die_with_parent


def run_child(
    args: Sequence[str],
    *,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """``subprocess.run(args, capture_output=True)`` with a child that dies with us."""
    return subprocess.run(
        list(args),
        capture_output=True,
        env=dict(env) if env is not None else None,
        timeout=timeout,
        check=False,
        preexec_fn=_die_with_parent_hook(),
    )
