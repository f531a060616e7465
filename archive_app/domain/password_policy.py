"""What makes a new password acceptable: the strength rules every chosen password meets.

Contract: :func:`weaknesses` returns, in a fixed order, every rule a candidate password
breaks for a given user name (an empty list means it is acceptable):

- ``too_short``: fewer than :data:`MIN_LENGTH` characters;
- ``contains_username``: the user name appears in it, ignoring case (the name itself too);
- ``common``: it is on the list of common passwords, ignoring case.

The list ships as package data (``common_passwords.txt``, one lower-case password a line,
most common first): the 19,640 common passwords compiled by Royce Williams from breach
corpora, as Django ships them (``django/contrib/auth/common-passwords.txt.gz``,
BSD-3-Clause). It is read once, on first use, not at import.
"""

from __future__ import annotations

import enum
from functools import cache
from importlib import resources

MIN_LENGTH = 12
COMMON_PASSWORDS_FILE = "common_passwords.txt"


class Weakness(enum.StrEnum):
    TOO_SHORT = "too_short"
    CONTAINS_USERNAME = "contains_username"
    COMMON = "common"


DESCRIPTIONS = {
    Weakness.TOO_SHORT: f"must be at least {MIN_LENGTH} characters long",
    Weakness.CONTAINS_USERNAME: "must not contain the user name",
    Weakness.COMMON: "is one of the most common passwords; choose another",
}


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files(__package__).joinpath(COMMON_PASSWORDS_FILE).read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line)


def weaknesses(password: str, username: str) -> list[Weakness]:
    found: list[Weakness] = []
    if len(password) < MIN_LENGTH:
        found.append(Weakness.TOO_SHORT)
    name = username.strip().casefold()
    if name and name in password.casefold():
        found.append(Weakness.CONTAINS_USERNAME)
    if password.lower() in common_passwords():
        found.append(Weakness.COMMON)
    return found
