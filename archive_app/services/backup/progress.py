"""The progress callback of backup and restore: ``progress(phase, done, total)``.

``phase`` names the step in words a person reads ("copying objects"); ``total`` is None
while unknown. Front ends draw it (the CLI: one bar per phase); services only call it.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int | None], None]


def no_progress(phase: str, done: int, total: int | None) -> None:
    """The default: report nothing."""
