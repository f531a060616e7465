"""The progress callback of backup and restore: ``progress(phase, done, total)``.

``phase`` names the step in words a person reads ("copying objects"); ``total`` is None
while unknown. Front ends draw it (the CLI: one bar per phase); services only call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Progress = Callable[[str, int, int | None], None]


def no_progress(phase: str, done: int, total: int | None) -> None:
    """The default: report nothing."""


@dataclass
class RowCounter:
    """Reports ``phase`` as rows accumulate: ``advance(rows)`` after each batch."""

    progress: Progress
    phase: str
    total: int
    done: int = 0

    def __post_init__(self) -> None:
        self.progress(self.phase, self.done, self.total)

    def advance(self, rows: int) -> None:
        self.done += rows
        self.progress(self.phase, self.done, self.total)
