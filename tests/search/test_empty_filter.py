"""Filters that no document passes match nothing (Whoosh reads an empty filter set as
"no filter": without care, a user allowed no level present in the index saw everything)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from indexing.search import IndexDocument, SearchBackend, SearchRequest


def test_filters_that_exclude_every_document(backend: SearchBackend) -> None:
    backend.add(
        [
            IndexDocument(
                "1",
                "a1",
                "KH-1",
                "contract",
                "ready",
                "secret",
                "t",
                "hello",
                date(2026, 3, 18),
                Decimal("12000"),
            ),
            IndexDocument("2", "a1", "KH-1", "contract", "ready", "secret", "t", "hello"),
        ]
    )
    for extra in (
        {},
        {"date_from": date(2026, 4, 1)},
        {"date_to": date(2026, 1, 1)},
        {"amount_min": Decimal("12000.01")},
        {"class_codes": ["invoice"]},
    ):
        levels = {"public"} if not extra else {"secret"}
        for query in ("hello", ""):
            results = backend.search(SearchRequest(query, levels, **extra))
            assert (results.total, results.hits) == (0, []), (query, extra)
            assert results.facets == {"class": {}, "archive": {}}
