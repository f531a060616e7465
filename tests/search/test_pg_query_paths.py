"""PostgreSQL's cheap paths for the queries that were slow at scale: a single CJK character
is one term of its own (not a prefix scan over every bigram that starts with it), tables
from before that keep answering by the prefix scan until a complete reindex, and a
relevance search matching more documents than the count's cap is ranked within its newest
matches instead of over all of them."""

from __future__ import annotations

import itertools
import logging
import os
from datetime import date

import pytest
import sqlalchemy as sa

from indexing.search import BackendError, IndexDocument, SearchRequest, open_backend, reindex
from tests.conftest import unavailable

from .conftest import _postgres_url
from .corpus import CORPUS, EVERYTHING

_n = itertools.count()


@pytest.fixture(params=["rum", "gin"])
def text_index(request) -> str:
    return request.param


@pytest.fixture
def table(request, pg_engine) -> str:
    name = f"search_paths{os.getpid()}_{next(_n)}"

    def drop() -> None:
        with pg_engine.begin() as conn:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))

    request.addfinalizer(drop)
    return name


def _open(request, pg_engine, table: str, text_index: str, **options):
    try:
        backend = open_backend(
            _postgres_url(), engine=pg_engine, table=table, text_index=text_index, **options
        )
    except BackendError as exc:
        unavailable(str(exc))
    request.addfinalizer(backend.close)
    return backend


def _ids(backend, query: str, **kw) -> list[str]:
    request = SearchRequest(query, allowed_levels=EVERYTHING, per_page=100, **kw)
    return [h.doc_id for h in backend.search(request).hits]


def _doc(doc_id: str, title: str, text: str, day: int = 1) -> IndexDocument:
    return IndexDocument(
        doc_id, "A1", "KH-000001", "contract", "active", "public", title, text, date(2024, 1, day)
    )


CHAR_DOCS = [
    _doc("inside", "合同", "我们的约定"),  # 的 inside a run: only as the start of the bigram 的约
    _doc("end", "合同", "双方签字的"),  # 的 ends the run: the lone last character
    _doc("title", "华为的合同", "条款"),  # 的 in the title only
    _doc("none", "合同", "约定条款"),
]


def _drop_char_terms(pg_engine, table: str, doc_ids: list[str] | None = None) -> None:
    """Remove the character terms from rows, as a table written before them has none."""
    where = "" if doc_ids is None else " WHERE doc_id = ANY(:ids)"
    with pg_engine.begin() as conn:
        conn.execute(
            sa.text(
                f'UPDATE "{table}" SET tsv = ts_delete(tsv, ARRAY('
                "SELECT lexeme FROM unnest(tsv) WHERE lexeme LIKE '#%'))" + where
            ),
            {"ids": doc_ids} if doc_ids is not None else {},
        )


def test_a_single_character_is_found_wherever_it_occurs(request, pg_engine, table, text_index):
    backend = _open(request, pg_engine, table, text_index)
    backend.add(CHAR_DOCS)
    assert backend.char_terms
    assert sorted(_ids(backend, "的")) == ["end", "inside", "title"]
    assert _ids(backend, "title:的") == ["title"]
    assert sorted(_ids(backend, "body:的")) == ["end", "inside"]
    assert sorted(_ids(backend, '"的"')) == ["end", "inside", "title"]
    assert _ids(backend, "的 -华为") != [] and "title" not in _ids(backend, "的 -华为")


def test_a_single_character_is_searched_as_its_own_term(request, pg_engine, table, text_index):
    backend = _open(request, pg_engine, table, text_index)
    backend.add(CHAR_DOCS)
    # Without its character terms a row is not found by one character any more, though its
    # bigram 的约 is still there: the search reads the character's term, not the bigrams.
    _drop_char_terms(pg_engine, table, ["inside"])
    assert sorted(_ids(backend, "的")) == ["end", "title"]
    assert _ids(backend, "的约") == ["inside"]


def test_a_table_from_before_character_terms_answers_by_prefix_until_reindexed(
    request, pg_engine, table, text_index, tmp_path, caplog
):
    first = _open(request, pg_engine, table, text_index)
    first.add(CHAR_DOCS)
    first.close()
    _drop_char_terms(pg_engine, table)
    with pg_engine.begin() as conn:
        conn.execute(sa.text(f'COMMENT ON TABLE "{table}" IS NULL'))

    with caplog.at_level(logging.WARNING, logger="indexing.search.postgres_backend"):
        old = _open(request, pg_engine, table, text_index)
    assert not old.char_terms
    assert "archive reindex --restart" in caplog.text
    # Still right, by the prefix scan over the bigrams and lone characters.
    assert sorted(_ids(old, "的")) == ["end", "inside", "title"]

    # A reindex that stops before rewriting every row leaves the old format in place.
    with old.bulk_load():
        old.add(CHAR_DOCS[:2])
    assert not old.char_terms
    # A complete one (every row rewritten) switches to the character terms.
    reindex(old, CHAR_DOCS, checkpoint_path=str(tmp_path / "ckpt"))
    assert old.char_terms
    reopened = _open(request, pg_engine, table, text_index)
    assert reopened.char_terms
    assert sorted(_ids(reopened, "的")) == ["end", "inside", "title"]


def test_clearing_a_table_from_before_character_terms_upgrades_it(
    request, pg_engine, table, text_index
):
    first = _open(request, pg_engine, table, text_index)
    first.add(CHAR_DOCS)
    with pg_engine.begin() as conn:
        conn.execute(sa.text(f'COMMENT ON TABLE "{table}" IS NULL'))
    old = _open(request, pg_engine, table, text_index)
    assert not old.char_terms
    old.clear()
    assert old.char_terms
    old.add(CORPUS)
    assert _ids(old, "鑫") == ["c7"]


# Seven documents with "penalty", newest last; D02, an old one, says it most.
PENALTY_TEXTS = [
    "penalty clause",
    "penalty penalty penalty penalty penalty",
    "penalty",
    "late penalty penalty",
    "penalty applies",
    "the penalty penalty penalty",
    "penalty once",
]
PENALTY_DOCS = [_doc(f"D{n:02d}", f"合同 {n}", t, n) for n, t in enumerate(PENALTY_TEXTS, 1)]


def _page(backend, page: int, per_page: int = 2, **kw):
    return backend.search(
        SearchRequest("penalty", allowed_levels=EVERYTHING, page=page, per_page=per_page, **kw)
    )


def test_rum_ranks_a_query_over_the_cap_within_its_newest_matches(request, pg_engine, table):
    backend = _open(request, pg_engine, table, "rum", broad_rank_window=4)
    backend.add(PENALTY_DOCS)
    # Under the cap every match is ranked: D02, old, says it most and comes first.
    full = _page(backend, 1, per_page=10, total_cap=7)
    assert full.total_exact and full.ranked_window is None
    assert full.hits[0].doc_id == "D02"

    # Over the cap (7 matches, cap 6): only the newest 4 (D07, D06, D05, D04) are ranked:
    # D06 (three times) and D04 (twice), then D05 and D07 (once each; equal scores by id).
    first = _page(backend, 1, total_cap=6)
    assert not first.total_exact and first.total == 6 and first.ranked_window == 4
    assert [h.doc_id for h in first.hits] == ["D06", "D04"]
    assert first.hits[0].score >= first.hits[1].score > 0
    second = _page(backend, 2, total_cap=6)
    assert [h.doc_id for h in second.hits] == ["D05", "D07"]
    assert first.hits[1].score > second.hits[0].score == second.hits[1].score > 0
    # After the window, the rest by date, newest first: D03, D02, D01, D02 included although
    # it would rank first over every match.
    rest = [h.doc_id for p in (3, 4) for h in _page(backend, p, total_cap=6).hits]
    assert rest == ["D03", "D02", "D01"]


def test_rum_ranks_filtered_matches_among_the_rows_that_pass_the_filters(request, pg_engine, table):
    backend = _open(request, pg_engine, table, "rum", rank_window=6, broad_rank_window=4)
    backend.add(PENALTY_DOCS)
    # A filter leaving 6 matches: ranked by ts_rank_cd over all of them (up to rank_window).
    every = _page(backend, 1, per_page=10, date_from=date(2024, 1, 2))
    assert every.total == 6 and every.total_exact and every.ranked_window is None
    assert [h.doc_id for h in every.hits][:3] == ["D02", "D06", "D04"]
    scores = [h.score for h in every.hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    # A filter leaving 7 (more than rank_window): the newest 4 ranked, the rest by date.
    newest = _page(backend, 1, per_page=10, class_codes=["contract"])
    assert newest.total == 7 and newest.total_exact and newest.ranked_window == 4
    assert [h.doc_id for h in newest.hits] == ["D06", "D04", "D05", "D07", "D03", "D02", "D01"]


PHRASE = "应向守约方支付违约金"
PHRASE_DOCS = [
    _doc("P1", "合同", f"第一条 {PHRASE}。", 1),
    _doc("P2", "合同", f"第二条 {PHRASE}。", 2),
    _doc("P3", "合同", f"{PHRASE}，并且{PHRASE}。", 3),  # twice: ranks first
    _doc("P4", "合同", f"{PHRASE}。", 4),
    _doc("P5", "合同", f"{PHRASE}。", 5),
    # The newest two hold every bigram of the phrase, but not the phrase: the stream
    # breaks at the punctuation. They are candidates, never hits.
    _doc("N6", "合同", "应向守约方，支付违约金。", 6),
    _doc("N7", "合同", "守约方支付违约金，应向对方。", 7),
]


@pytest.mark.parametrize("analyzed", [False, True], ids=["no-statistics", "statistics"])
def test_a_long_phrase_over_the_cap_is_checked_on_its_newest_candidates(
    request, pg_engine, table, text_index, analyzed
):
    backend = _open(request, pg_engine, table, text_index, rank_window=3, broad_rank_window=3)
    backend.add(PHRASE_DOCS)
    if analyzed:
        backend.analyze()  # the rarest terms then come from the planner's statistics
    query = f'"{PHRASE}"'
    exact = backend.search(SearchRequest(query, allowed_levels=EVERYTHING, per_page=10))
    assert exact.total == 5 and exact.total_exact

    def page(n: int):
        return backend.search(
            SearchRequest(query, allowed_levels=EVERYTHING, per_page=2, page=n, total_cap=4)
        )

    first = page(1)
    assert first.total == 4 and not first.total_exact and first.ranked_window == 3
    # The newest three phrase matches (P5, P4, P3) ranked, P3 first; N6 and N7 are newer
    # candidates but do not hold the phrase.
    assert [h.doc_id for h in first.hits] == ["P3", "P4"]
    assert first.hits[0].score > first.hits[1].score > 0
    rest = [h.doc_id for n in (2, 3) for h in page(n).hits]
    assert rest == ["P5", "P2", "P1"]
    # The same documents as the exact count found, none twice.
    assert sorted(["P3", "P4", *rest]) == sorted(h.doc_id for h in exact.hits)


def test_a_negated_long_phrase_is_not_loosened(request, pg_engine, table, text_index):
    backend = _open(request, pg_engine, table, text_index, rank_window=3, broad_rank_window=3)
    backend.add(PHRASE_DOCS)
    results = backend.search(
        SearchRequest(f'合同 -"{PHRASE}"', allowed_levels=EVERYTHING, per_page=10, total_cap=1)
    )
    # Loosening the phrase under the NOT would drop N6 and N7, which lack the phrase.
    assert not results.total_exact and results.ranked_window == 3
    assert sorted(h.doc_id for h in results.hits) == ["N6", "N7"]
