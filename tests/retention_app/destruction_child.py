"""A destruction that dies: run as a child process, it executes a batch with the real
``run_batch`` and SIGKILLs itself when the progress callback reports the chosen moment.

Usage: ``python -m tests.retention_app.destruction_child BATCH EXECUTOR MOMENT`` with the
instance named by ``ARCHIVE_HOME`` / ``ARCHIVE_DATABASE_URL`` (and the other ``ARCHIVE_*``
settings). MOMENT is one of :data:`MOMENTS`:

- ``decide``: the decision is recorded but not committed;
- ``decided``: the decision has just committed, nothing is shredded yet;
- ``mid-shred``: one store archive is shredded, another is not;
- ``finish``: everything is shredded, the stubs are written but not committed;
- ``done``: the final transaction has committed.

Exits 3 if the run ended without reaching the moment (the test then fails).
"""

from __future__ import annotations

import os
import signal
import sys

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.services.retention import destruction
from archive_app.services.users import get_user

MOMENTS = ("decide", "decided", "mid-shred", "finish", "done")


def reached(moment: str, stage: str, done: int, total: int) -> bool:
    if moment == "mid-shred":
        return stage == "shred" and 0 < done < total
    return stage == moment


def main(batch: str, executor: str, moment: str) -> int:
    if moment not in MOMENTS:
        raise SystemExit(f"moment must be one of {', '.join(MOMENTS)}")

    def on_progress(stage: str, done: int, total: int) -> None:
        if reached(moment, stage, done, total):
            os.kill(os.getpid(), signal.SIGKILL)

    container = Container.from_settings(Settings.from_env())
    with container.database.session() as session:
        actor = get_user(session, executor)
        destruction.run_batch(container, session, actor, batch, on_progress=on_progress)
    return 3


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
