"""The search backend the settings name, and its failures as application errors.

Library errors (``indexing.search.SearchError``) reach the front ends translated here
(:func:`translate`) into :class:`SearchUnavailable` or :class:`PurgeNotFinished`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from archive_app.errors import AppError

if TYPE_CHECKING:
    from archive_app.infra.config import Settings
    from indexing.search import SearchBackend


class SearchUnavailable(AppError):
    """The search backend failed (index locked, database unreachable, corrupt index)."""

    http_status = 503
    code = "search_unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(f"search is unavailable: {detail}")
        self.detail = detail


class PurgeNotFinished(SearchUnavailable):
    """Removed entries may still be in the index storage; run the purge again."""

    code = "purge_incomplete"

    def __init__(self, blocking: list[int]) -> None:
        super().__init__(
            "deleted entries may still be in the index files because database sessions "
            f"{blocking} held old snapshots; run `archive index check --repair` later"
        )
        self.blocking = blocking


class SwitchRefused(AppError):
    """``archive reindex --to`` cannot switch to that backend (nothing was changed)."""

    http_status = 409
    code = "search_switch_refused"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot switch the search backend to {url}: {reason}")
        self.url = url
        self.reason = reason


def translate(error: Exception) -> AppError:
    from indexing.search import PurgeIncomplete

    if isinstance(error, PurgeIncomplete):
        return PurgeNotFinished(error.blocking_pids)
    return SearchUnavailable(str(error))


def open_search_backend(settings: Settings) -> SearchBackend:
    """The backend named by the settings; ``table=`` in a PostgreSQL URL picks the table."""
    from indexing.search import SearchError, open_backend

    url = settings.resolved_search_url
    options: dict[str, Any] = {}
    if not url.startswith(("whoosh:", "tantivy:")):  # folder URLs carry no query
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        for name, value in query:
            if name == "table":
                options["table"] = value
        rest = [(n, v) for n, v in query if n != "table"]
        url = urlunsplit(parts._replace(query=urlencode(rest)))
    try:
        return open_backend(url, **options)
    except SearchError as error:
        raise translate(error) from error
