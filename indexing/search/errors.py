"""Errors raised by the full-text search library.

Every error carries the data a caller needs to report it (the app maps them to HTTP status
codes and CLI exit codes in one place); the message is for logs and developers.
"""

from __future__ import annotations


class SearchError(Exception):
    """Base class for every error raised by ``indexing.search``."""


class QuerySyntaxError(SearchError):
    """The query string is malformed.

    ``position`` is the 0-based character offset in the query string where the problem
    was detected; ``message`` says what was expected.
    """

    def __init__(self, position: int, message: str, query: str = "") -> None:
        self.position = position
        self.message = message
        self.query = query
        super().__init__(f"{message} (at character {position})")


class UnknownFieldError(QuerySyntaxError):
    """A ``field:value`` query names a field we do not search."""

    def __init__(self, position: int, field: str, known: tuple[str, ...], query: str = "") -> None:
        self.field = field
        self.known = known
        super().__init__(
            position, f"unknown field {field!r}; known fields: {', '.join(known)}", query
        )


class InvalidSearchRequest(SearchError):
    """A search request carries an impossible value (e.g. ``page`` < 1)."""

    def __init__(self, field: str, value: object, message: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}={value!r}: {message}")


class UnsupportedBackendURL(SearchError):
    """``open_backend`` was given a URL whose scheme names no backend we ship."""

    def __init__(self, url: str, supported: tuple[str, ...]) -> None:
        self.url = url
        self.supported = supported
        super().__init__(
            f"no search backend for {url!r}; supported schemes: {', '.join(supported)}"
        )


class BackendError(SearchError):
    """The backend failed (index locked, database unreachable, corrupt index...)."""

    def __init__(self, backend: str, message: str) -> None:
        self.backend = backend
        self.message = message
        super().__init__(f"{backend}: {message}")


class IndexLocked(BackendError):
    """Another writer holds the index lock and did not release it in time."""

    def __init__(self, backend: str, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        super().__init__(
            backend, f"index at {path} is locked by another writer (waited {timeout}s)"
        )


class PurgeIncomplete(BackendError):
    """Deleted documents could not be made physically gone (yet).

    PostgreSQL keeps a deleted row, even through ``VACUUM FULL``, while any transaction
    that might still see it is open; ``blocking_pids`` are the sessions that held it back.
    Run the purge again once they have finished.
    """

    def __init__(self, backend: str, blocking_pids: list[int], waited: float) -> None:
        self.blocking_pids = blocking_pids
        self.waited = waited
        super().__init__(
            backend,
            f"deleted rows may still be in the data files: sessions {blocking_pids} held old "
            f"snapshots for {waited:.0f}s",
        )


class CheckpointError(SearchError):
    """A reindex checkpoint file exists but cannot be read."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"unreadable reindex checkpoint {path}: {reason}")
