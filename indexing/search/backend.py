"""The backend protocol, its value types, and ``open_backend``.

A backend indexes :class:`IndexDocument` values and answers :class:`SearchRequest` values.
It stores postings (terms with positions) and the metadata needed to filter, sort and facet:
never the document text. Hits carry a doc id and a score; the caller loads and decrypts the
top hits' text itself and cuts snippets with :func:`indexing.search.make_snippet`.

Backends are chosen by URL:

* ``whoosh:///abs/path/to/dir`` (or ``whoosh://relative/dir``): the embedded Whoosh index.
* ``tantivy:///abs/path/to/dir`` (or ``tantivy://relative/dir``): the embedded, compiled
  Tantivy index (faster queries and indexing than Whoosh on large collections).
* ``postgresql://...`` or ``postgresql+psycopg://...``: PostgreSQL full-text search in a
  table the backend creates (default ``search_documents``; ``table=`` to change it).
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

from .analysis import index_terms
from .errors import InvalidSearchRequest, UnsupportedBackendURL

__all__ = [
    "Hit",
    "IndexDocument",
    "SearchBackend",
    "SearchRequest",
    "SearchResults",
    "open_backend",
]

SortOrder = Literal["relevance", "date", "-date"]
MAX_PER_PAGE = 500
# Counts are exact up to this many matches and reported as "more than this" beyond.
DEFAULT_TOTAL_CAP = 10_000


@dataclass(slots=True)
class IndexDocument:
    """What the index learns about one document. ``text`` is analysed, never stored."""

    doc_id: str
    archive_id: str
    archive_number: str
    class_code: str
    status: str
    level: str
    title: str
    text: str
    document_date: date | None = None
    amount: Decimal | None = None
    # Labels people put on the document; none may contain a comma.
    tags: tuple[str, ...] = ()


@dataclass(slots=True)
class SearchRequest:
    """One search.

    ``allowed_levels`` is the permission filter and has no default: only documents whose
    confidentiality level is in it are matched, counted or faceted. An empty set sees
    nothing. ``None`` in the other filters means "no restriction". ``tags`` matches the
    documents that carry every one of the given tags. ``total_cap`` bounds the counting:
    see :class:`SearchResults`.
    """

    query: str
    allowed_levels: set[str] | frozenset[str]
    archive_ids: list[str] | None = None
    class_codes: list[str] | None = None
    statuses: list[str] | None = None
    date_from: date | None = None
    date_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    tags: list[str] | None = None
    sort: SortOrder = "relevance"
    page: int = 1
    per_page: int = 20
    facets: bool = True
    total_cap: int = DEFAULT_TOTAL_CAP

    def validate(self) -> None:
        if self.total_cap < 1:
            raise InvalidSearchRequest("total_cap", self.total_cap, "must be >= 1")
        if self.page < 1:
            raise InvalidSearchRequest("page", self.page, "must be >= 1")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidSearchRequest("per_page", self.per_page, f"must be 1..{MAX_PER_PAGE}")
        if self.sort not in ("relevance", "date", "-date"):
            raise InvalidSearchRequest("sort", self.sort, "must be relevance, date or -date")
        if isinstance(self.allowed_levels, str) or self.allowed_levels is None:
            raise InvalidSearchRequest(
                "allowed_levels", self.allowed_levels, "must be a set of level names"
            )
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidSearchRequest("date_from", self.date_from, "is after date_to")
        if (
            self.amount_min is not None
            and self.amount_max is not None
            and self.amount_min > self.amount_max
        ):
            raise InvalidSearchRequest("amount_min", self.amount_min, "is above amount_max")


@dataclass(frozen=True, slots=True)
class Hit:
    doc_id: str
    score: float


@dataclass(slots=True)
class SearchResults:
    """One page of hits, the total number of matching visible documents, and facets.

    ``facets`` is ``{"class": {class_code: count}, "archive": {archive_id: count}}`` over
    every matching visible document (not only this page).

    Counts are exact up to the request's ``total_cap``. When more documents match,
    ``total`` is the cap and ``total_exact`` is false ("more than ``total``"); the facet
    counts are then lower bounds, none above the cap (a backend may count them over only
    the first cap + 1 matches it finds, which is what bounds its work).

    ``ranked_window`` is set when a relevance search matched more documents than the
    backend ranks: then only that many of the newest matches were ranked by relevance,
    and the matches after them follow by date, newest first.
    """

    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    ranked_window: int | None = None
    total_exact: bool = True

    @classmethod
    def nothing(cls, request: SearchRequest) -> SearchResults:
        """No hits; empty facet counts when the request asked for facets."""
        return cls(0, [], empty_facets() if request.facets else {})


def empty_facets() -> dict[str, dict[str, int]]:
    return {"class": {}, "archive": {}}


def capped(
    total: int, facets: dict[str, dict[str, int]], cap: int
) -> tuple[int, bool, dict[str, dict[str, int]]]:
    """``(total, total_exact, facets)`` with every count above ``cap`` brought to ``cap``."""
    return (
        min(total, cap),
        total <= cap,
        {name: {key: min(n, cap) for key, n in counts.items()} for name, counts in facets.items()},
    )


@runtime_checkable
class SearchBackend(Protocol):
    name: str

    def add(self, docs: Iterable[IndexDocument]) -> int:
        """Insert or replace documents (by ``doc_id``); returns how many were written."""
        ...

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove documents; returns how many ids were asked for."""
        ...

    def search(self, request: SearchRequest) -> SearchResults: ...

    def doc_ids(self) -> Iterator[str]:
        """Every indexed doc id (for drift checks against the database)."""
        ...

    def purge(self) -> None:
        """Make deleted documents' terms physically gone from the index storage."""
        ...

    def bulk_load(self) -> AbstractContextManager[None]:
        """A block of many ``add`` calls (a reindex). Backends may defer index upkeep to
        the end of the block; searches inside it may be slow, never wrong."""
        ...

    def count(self) -> int: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


def open_backend(url: str, **options: Any) -> SearchBackend:
    """Open (creating if needed) the backend named by ``url``.

    Options: ``analysis_workers`` (every backend; processes that analyse text in parallel
    during ``add``, default 1), ``limitmb`` (Whoosh writer memory), ``writer_heap_mb`` and
    ``lock_timeout`` (Tantivy), ``table`` and ``engine`` (PostgreSQL: table name, or an
    existing SQLAlchemy Engine to use instead of the URL).
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme == "whoosh":
        from .whoosh_backend import WhooshBackend

        path = url[len("whoosh://") :] if url.startswith("whoosh://") else url[len("whoosh:") :]
        return WhooshBackend(path, **options)
    if scheme == "tantivy":
        from .tantivy_backend import TantivyBackend

        path = url[len("tantivy://") :] if url.startswith("tantivy://") else url[len("tantivy:") :]
        return TantivyBackend(path, **options)
    if scheme.startswith("postgresql") or scheme == "postgres":
        from .postgres_backend import PostgresBackend

        return PostgresBackend(url, **options)
    raise UnsupportedBackendURL(url, ("whoosh", "tantivy", "postgresql", "postgresql+psycopg"))


# --------------------------------------------------------------------------- shared helpers


@dataclass(slots=True)
class AnalysedDocument:
    """A document after analysis: metadata plus ``(term, position)`` pairs."""

    doc: IndexDocument
    title_terms: list[tuple[str, int]]
    body_terms: list[tuple[str, int]]


def _analyse_and_finish(finish: Callable[[AnalysedDocument], Any], doc: IndexDocument) -> Any:
    return finish(_analyse_one(doc))


def _analyse_one(doc: IndexDocument) -> AnalysedDocument:
    title_terms = index_terms(doc.title)
    body_terms = index_terms(doc.text)
    # The text is not needed any more; do not carry it (or pickle it back from a worker).
    slim = IndexDocument(
        doc.doc_id,
        doc.archive_id,
        doc.archive_number,
        doc.class_code,
        doc.status,
        doc.level,
        "",
        "",
        doc.document_date,
        doc.amount,
        doc.tags,
    )
    return AnalysedDocument(slim, title_terms, body_terms)


class Analyser:
    """Analyses documents in this process or in a small pool of worker processes.

    ``finish`` (a module-level function, so that workers can receive it) turns each
    :class:`AnalysedDocument` into what the backend writes, in the worker: the PostgreSQL
    backend builds its tsvector literal there, so the term lists are neither built into
    rows nor pickled back in the single main process.
    """

    def __init__(self, workers: int = 1, finish: Callable[[AnalysedDocument], Any] | None = None):
        self.workers = max(1, int(workers))
        self._work = functools.partial(_analyse_and_finish, finish) if finish else _analyse_one
        self._pool: Any = None

    def map(self, docs: Iterable[IndexDocument]) -> Iterator[Any]:
        if self.workers == 1:
            return map(self._work, docs)
        if self._pool is None:
            from .analysis import warm_up

            # Workers come from a clean server process, not forked from this one: a fork
            # copies every open descriptor, and an index's lock file inherited by an idle
            # worker stays locked after this process lets go of it (a Tantivy reader then
            # waited for it forever). Each worker loads jieba's dictionary once.
            ctx = multiprocessing.get_context("forkserver")
            self._pool = ctx.Pool(self.workers, initializer=warm_up)
        return self._map_pooled(docs)

    def _map_pooled(self, docs: Iterable[IndexDocument]) -> Iterator[Any]:
        # Pool.imap would read the whole input ahead of the workers: feed it in slices so
        # memory stays bounded when ``docs`` is a long generator.
        it = iter(docs)
        while chunk := list(itertools.islice(it, 64 * self.workers)):
            yield from self._pool.imap(self._work, chunk, chunksize=8)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
