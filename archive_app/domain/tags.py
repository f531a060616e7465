"""The rule for a tag's name: trimmed (inner runs of spaces become one), 1 to 64
characters, no comma (search indexes keep a document's tags as a comma-separated list) and
no control character. :func:`clean_tag` raises ValueError saying what is wrong."""

from __future__ import annotations

from collections.abc import Iterable

MAX_TAG_CHARS = 64


def clean_tag(raw: str) -> str:
    name = " ".join(str(raw).split())
    if not name:
        raise ValueError("is empty")
    if len(name) > MAX_TAG_CHARS:
        raise ValueError(f"is longer than {MAX_TAG_CHARS} characters")
    if "," in name or any(not ch.isprintable() for ch in name):
        raise ValueError("may not contain commas or control characters")
    return name


def clean_tags(raw: Iterable[str]) -> list[str]:
    """Distinct cleaned names, sorted."""
    return sorted({clean_tag(name) for name in raw})
