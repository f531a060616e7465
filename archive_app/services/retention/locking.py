"""One lock between placing legal holds and executing destruction.

Executing a batch re-checks every record's holds and then shreds, irreversibly, before its
transaction commits. A hold placed in between must either be seen by that re-check or wait
until the destruction has committed; it must never be committed beside a destruction that
did not see it. Both take this lock for the rest of their transaction.

On PostgreSQL it is a transaction-scoped advisory lock (released at commit or rollback).
On SQLite every transaction already starts with ``BEGIN IMMEDIATE``, which admits one
writer at a time, so the two can never overlap and nothing more is needed.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# An arbitrary constant naming this lock among the database's advisory locks.
_RETENTION_LOCK = 0x41524348  # "ARCH"


def hold_retention_lock(session: Session) -> None:
    """Take the holds/destruction lock until the session's transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RETENTION_LOCK})
