"""PostgreSQL with a GIN text index ranks at most ``rank_window`` matches by relevance (the
rest follow by date); with RUM, which ranks inside the index, every match is ranked."""

from __future__ import annotations

import os
from datetime import date

import pytest

from indexing.search import BackendError, IndexDocument, SearchRequest, open_backend
from tests.conftest import unavailable

from .conftest import _postgres_url

LEVELS = {"public"}
PENALTY_TEXTS = [
    "penalty clause",
    "penalty penalty penalty penalty penalty",
    "penalty",
    "late penalty penalty",
    "penalty applies",
    "the penalty penalty penalty",
    "no such word here",
]


def _doc(n: int, text: str, day: int) -> IndexDocument:
    return IndexDocument(
        doc_id=f"D{n:02d}",
        archive_id="A1",
        archive_number="KH-000001",
        class_code="contract",
        status="declared",
        level="public",
        title=f"合同 {n}",
        text=text,
        document_date=date(2024, 1, day),
    )


def _backend(request, pg_engine, table: str, text_index: str, docs: list[IndexDocument]):
    """A PostgreSQL backend with a window of 3, holding ``docs``, dropped afterwards."""
    try:
        backend = open_backend(
            _postgres_url(),
            engine=pg_engine,
            table=f"{table}{os.getpid()}",
            rank_window=3,
            text_index=text_index,
        )
    except BackendError as exc:
        unavailable(str(exc))
    request.addfinalizer(lambda: (backend.drop(), backend.close()))
    backend.add(docs)
    return backend


# D01..D06 all mention penalty; D02 (an old one) mentions it most. Newest: D06.
PENALTY_DOCS = [_doc(n, text, n) for n, text in enumerate(PENALTY_TEXTS, start=1)]


@pytest.fixture
def small_window_backend(request, pg_engine):
    return _backend(request, pg_engine, "search_rw", "gin", PENALTY_DOCS)


def _ids(results) -> list[str]:
    return [h.doc_id for h in results.hits]


def test_narrow_query_is_ranked_over_every_match(small_window_backend):
    results = small_window_backend.search(SearchRequest("penalty late", allowed_levels=LEVELS))
    assert results.total == 1 and results.ranked_window is None
    assert _ids(results) == ["D04"]


def test_broad_query_ranks_the_newest_window_then_continues_by_date(small_window_backend):
    first = small_window_backend.search(
        SearchRequest("penalty", allowed_levels=LEVELS, per_page=2, facets=True)
    )
    # Counts cover every match, not only the window.
    assert first.total == 6 and first.facets["class"] == {"contract": 6}
    assert first.ranked_window == 3
    # The newest three are D06, D05, D04; D06 and D04 repeat the word, D05 does not.
    assert _ids(first) == ["D06", "D04"]
    assert first.hits[0].score >= first.hits[1].score > 0
    # Page 2 straddles the window: its last ranked document, then the newest of the rest.
    second = small_window_backend.search(
        SearchRequest("penalty", allowed_levels=LEVELS, per_page=2, page=2)
    )
    assert _ids(second) == ["D05", "D03"]
    third = small_window_backend.search(
        SearchRequest("penalty", allowed_levels=LEVELS, per_page=2, page=3)
    )
    assert _ids(third) == ["D02", "D01"]
    every = _ids(first) + _ids(second) + _ids(third)
    assert sorted(every) == [f"D0{n}" for n in range(1, 7)]


def test_date_sort_is_not_windowed(small_window_backend):
    results = small_window_backend.search(
        SearchRequest("penalty", allowed_levels=LEVELS, sort="date", per_page=10)
    )
    assert results.ranked_window is None
    assert _ids(results) == ["D01", "D02", "D03", "D04", "D05", "D06"]


def test_rum_ranks_every_match_whatever_the_window(request, pg_engine):
    backend = _backend(request, pg_engine, "search_rwr", "rum", PENALTY_DOCS)
    results = backend.search(SearchRequest("penalty", allowed_levels=LEVELS))
    assert results.total == 6 and results.ranked_window is None
    # D02, an old document, says it most: first, though the window would have left it out.
    assert _ids(results)[0] == "D02"
    assert set(_ids(results)) == {"D01", "D02", "D03", "D04", "D05", "D06"}
    scores = [h.score for h in results.hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


def test_rum_pages_of_equal_scores_neither_overlap_nor_skip(request, pg_engine):
    same = [_doc(n, "the same penalty clause", 1 + n % 28) for n in range(1, 31)]
    backend = _backend(request, pg_engine, "search_rwt", "rum", same)
    pages = []
    for page in range(1, 6):
        request_page = SearchRequest("penalty", allowed_levels=LEVELS, per_page=7, page=page)
        pages += _ids(backend.search(request_page))
    assert len(pages) == 30 and len(set(pages)) == 30
