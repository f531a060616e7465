"""The same behaviour from every backend: matching, query language, filters, facets,
permissions, sorting and pagination (read-only tests over the shared corpus)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from indexing.search import (
    InvalidSearchRequest,
    QuerySyntaxError,
    SearchBackend,
    SearchRequest,
    SearchResults,
)

from .corpus import CORPUS, EVERYTHING, VISIBLE


def search(backend: SearchBackend, query: str, levels=VISIBLE, **kw) -> SearchResults:
    return backend.search(SearchRequest(query, allowed_levels=set(levels), **kw))


def ids(backend: SearchBackend, query: str, levels=VISIBLE, **kw) -> set[str]:
    results = search(backend, query, levels, per_page=100, **kw)
    found = [h.doc_id for h in results.hits]
    assert len(found) == len(set(found)), "a document appears twice"
    assert results.total == len(found)
    return set(found)


def test_word_inside_a_longer_chinese_sentence(corpus_backend):
    # c1 says 应向守约方支付违约金; c5 also mentions it but is secret.
    assert ids(corpus_backend, "违约金") == {"c1", "c2", "c4"}
    assert ids(corpus_backend, "违约金", EVERYTHING) == {"c1", "c2", "c4", "c5"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [("华为", {"c2"}), ("华为技术", {"c2"}), ("阿里", {"c3"}), ("阿里巴巴", {"c3"})],
)
def test_company_short_name_finds_full_name(corpus_backend, query, expected):
    assert ids(corpus_backend, query) == expected


def test_single_cjk_character(corpus_backend):
    assert ids(corpus_backend, "鑫") == {"c7"}
    # A character that only ends a run (十万元。): still found.
    assert "c1" in ids(corpus_backend, "元")


def test_out_of_vocabulary_word(corpus_backend):
    assert ids(corpus_backend, "犇骉", EVERYTHING) == {"c6"}
    assert ids(corpus_backend, "骉科", EVERYTHING) == {"c6"}


def test_english_stemming_family_matches_each_other(corpus_backend):
    expected = {"c1", "c2", "c3", "c4", "c8"}
    for word in (
        "deliver",
        "delivered",
        "delivery",
        "deliveries",
        "DELIVERING",
        "ｄｅｌｉｖｅｒｙ",
    ):
        assert ids(corpus_backend, word) == expected, word
    assert ids(corpus_backend, "deliveries", EVERYTHING) == expected | {"c6"}


def test_chinese_phrase_matches_adjacent_words_only(corpus_backend):
    # c4: 违约金的计算另见条款 and c5: 违约金与保密条款 have both words, not adjacent.
    assert ids(corpus_backend, '"违约金条款"', EVERYTHING) == {"c2"}
    assert ids(corpus_backend, "“违约金条款”", EVERYTHING) == {"c2"}
    # Unquoted, both words are required anywhere.
    assert ids(corpus_backend, "违约金条款", EVERYTHING) == {"c2", "c4", "c5"}


def test_english_phrase_matches_adjacent_words_only(corpus_backend):
    # c4: "Late fees apply to the delivery", c3: "delivered late".
    assert ids(corpus_backend, '"late delivery"') == {"c2"}
    assert ids(corpus_backend, "late delivery") == {"c2", "c3", "c4"}


def test_mixed_chinese_english(corpus_backend):
    assert ids(corpus_backend, "华为 delivery") == {"c2"}
    assert ids(corpus_backend, '"SaaS服务"', EVERYTHING) == {"c6"}
    assert ids(corpus_backend, "saas服务平台", EVERYTHING) == {"c6"}


def test_not_and_or(corpus_backend):
    assert ids(corpus_backend, "违约金 -条款") == {"c1"}
    assert ids(corpus_backend, "违约金 NOT 条款") == {"c1"}
    assert ids(corpus_backend, "华为 OR 阿里") == {"c2", "c3"}
    assert ids(corpus_backend, "(华为 OR 阿里) -发票") == {"c2"}
    assert ids(corpus_backend, "NOT 违约金") == {"c3", "c7", "c8"}
    assert ids(corpus_backend, "违约金 AND 华为") == {"c2"}


def test_field_queries(corpus_backend):
    assert ids(corpus_backend, "合同") == {"c1", "c2", "c7", "c8"}
    assert ids(corpus_backend, "title:合同") == {"c1", "c2", "c7"}
    assert ids(corpus_backend, "body:合同") == {"c1", "c8"}
    assert ids(corpus_backend, 'title:"技术服务"') == {"c2"}
    assert ids(corpus_backend, "class:invoice") == {"c3"}
    assert ids(corpus_backend, "class:contract 违约金") == {"c1", "c2"}
    assert ids(corpus_backend, "archive:KH-000003") == {"c4", "c7"}
    assert ids(corpus_backend, "archive:A3") == {"c4", "c7"}
    assert ids(corpus_backend, "status:draft") == {"c4"}
    assert ids(corpus_backend, "class:letter OR 鑫") == {"c7", "c8"}


def test_filters(corpus_backend):
    b = corpus_backend
    assert ids(b, "", archive_ids=["A2", "A3"]) == {"c2", "c4", "c7"}
    assert ids(b, "违约金", class_codes=["voucher"]) == {"c4"}
    assert ids(b, "", statuses=["draft"]) == {"c4"}
    assert ids(b, "", date_from=date(2024, 1, 1), date_to=date(2024, 12, 31)) == {"c1", "c3"}
    assert ids(b, "", date_to=date(2022, 12, 31)) == {"c4", "c7"}
    assert ids(b, "", amount_min=Decimal("1000"), amount_max=Decimal("200000")) == {"c1", "c3"}
    assert ids(b, "", amount_min=Decimal("1234.56"), amount_max=Decimal("1234.56")) == {"c3"}
    assert ids(b, "deliver", archive_ids=["A1"], class_codes=["contract", "letter"]) == {"c1", "c8"}
    assert ids(b, "", archive_ids=[]) == set()


def test_facets_count_every_match_not_only_the_page(corpus_backend):
    r = search(corpus_backend, "", per_page=1)
    assert r.total == 6
    assert len(r.hits) == 1
    assert r.facets == {
        "class": {"contract": 3, "invoice": 1, "voucher": 1, "letter": 1},
        "archive": {"A1": 3, "A2": 1, "A3": 2},
    }
    r = search(corpus_backend, "违约金")
    assert r.facets == {
        "class": {"contract": 2, "voucher": 1},
        "archive": {"A1": 1, "A2": 1, "A3": 1},
    }


def test_permission_filter_hides_documents_and_their_facet_counts(corpus_backend):
    r = search(corpus_backend, "secretword")
    assert r.total == 0 and r.hits == []
    assert r.facets == {"class": {}, "archive": {}}
    r = search(corpus_backend, "收购方案 OR 违约金")
    assert "c5" not in {h.doc_id for h in r.hits}
    assert r.facets["archive"].get("A2") == 1  # c2 only; the secret c5 is in A2 too
    assert sum(r.facets["class"].values()) == r.total == 3
    assert ids(corpus_backend, "secretword", EVERYTHING) == {"c5"}
    assert ids(corpus_backend, "secretword", {"secret"}) == {"c5"}
    everything = search(corpus_backend, "", levels=set())
    assert everything.total == 0 and everything.hits == []
    assert ids(corpus_backend, "", {"confidential"}) == {"c6"}


def test_sort_by_date_and_pagination(corpus_backend):
    newest = [h.doc_id for h in search(corpus_backend, "", sort="-date", per_page=10).hits]
    assert newest == ["c3", "c1", "c2", "c4", "c7", "c8"]  # undated last
    oldest = [h.doc_id for h in search(corpus_backend, "", sort="date", per_page=10).hits]
    assert oldest[1:] == ["c7", "c4", "c2", "c1", "c3"] and oldest[0] == "c8"
    pages = [search(corpus_backend, "", sort="-date", per_page=2, page=p) for p in (1, 2, 3, 4)]
    assert [[h.doc_id for h in p.hits] for p in pages] == [
        ["c3", "c1"],
        ["c2", "c4"],
        ["c7", "c8"],
        [],
    ]
    assert {p.total for p in pages} == {6}


def test_relevance_pagination_is_a_partition(corpus_backend):
    full = [h.doc_id for h in search(corpus_backend, "deliver", per_page=100).hits]
    paged = []
    for page in (1, 2, 3):
        paged += [h.doc_id for h in search(corpus_backend, "deliver", per_page=2, page=page).hits]
    assert sorted(paged) == sorted(full) and len(paged) == 5
    scores = [h.score for h in search(corpus_backend, "deliver", per_page=100).hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


def test_title_match_ranks_above_body_only_match(corpus_backend):
    hits = search(corpus_backend, "发票", EVERYTHING).hits
    assert hits[0].doc_id == "c3"


def test_malformed_queries_raise_typed_errors(corpus_backend):
    with pytest.raises(QuerySyntaxError) as err:
        search(corpus_backend, '违约金 "late delivery')
    assert err.value.position == 4
    with pytest.raises(QuerySyntaxError):
        search(corpus_backend, "(华为 OR 阿里")
    with pytest.raises(QuerySyntaxError):
        search(corpus_backend, "nosuchfield:x")
    with pytest.raises(InvalidSearchRequest):
        search(corpus_backend, "x", page=0)


def test_doc_ids_and_count(corpus_backend):
    assert sorted(corpus_backend.doc_ids()) == sorted(d.doc_id for d in CORPUS)
    assert corpus_backend.count() == len(CORPUS)


def test_punctuation_only_query_matches_nothing_harmfully(corpus_backend):
    assert ids(corpus_backend, "，。") == set()
    assert ids(corpus_backend, "华为 ，") == {"c2"}


def test_counts_are_exact_up_to_the_cap_and_lower_bounds_beyond(corpus_backend):
    exact = search(corpus_backend, "", EVERYTHING, per_page=10)
    assert (exact.total, exact.total_exact) == (8, True)
    at_cap = search(corpus_backend, "", EVERYTHING, per_page=10, total_cap=8)
    assert (at_cap.total, at_cap.total_exact, at_cap.facets) == (8, True, exact.facets)

    statements: list[str] = []
    if corpus_backend.name == "postgresql":  # the cap bounds the counting work itself

        def seen(_conn, _cursor, statement, *_args) -> None:
            statements.append(statement)

        sa.event.listen(corpus_backend.engine, "before_cursor_execute", seen)
    above = search(corpus_backend, "", EVERYTHING, per_page=10, total_cap=5)
    if statements:
        sa.event.remove(corpus_backend.engine, "before_cursor_execute", seen)
        counts = [s for s in statements if "count(" in s.lower()]
        assert counts and all("LIMIT" in s for s in counts), counts
    assert (above.total, above.total_exact) == (5, False)  # "more than 5"
    assert len(above.hits) == 8  # the cap bounds the counting, not the pages
    for name, counts in above.facets.items():
        assert set(counts) <= set(exact.facets[name])
        assert all(1 <= n <= min(5, exact.facets[name][key]) for key, n in counts.items())

    without_facets = search(corpus_backend, "", EVERYTHING, total_cap=5, facets=False)
    assert (without_facets.total, without_facets.total_exact) == (5, False)
    with pytest.raises(InvalidSearchRequest):
        search(corpus_backend, "", total_cap=0)
