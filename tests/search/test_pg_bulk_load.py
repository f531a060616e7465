"""PostgreSQL text index: RUM when the server has the extension, GIN otherwise; an existing
index keeps its method. Bulk load: an empty table is loaded without its text index, which is
built once at the end of the block (however it ends) or by the next backend opened on it."""

from __future__ import annotations

import itertools
import os

import pytest
import sqlalchemy as sa

from indexing.search import BackendError, SearchRequest, open_backend, reindex
from tests.conftest import unavailable

from .conftest import _postgres_url
from .corpus import CORPUS

LEVELS = {"public", "internal", "confidential", "secret"}
_n = itertools.count()


@pytest.fixture
def table(request, pg_engine):
    name = f"search_bulk{os.getpid()}_{next(_n)}"

    def drop() -> None:
        with pg_engine.begin() as conn:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))

    request.addfinalizer(drop)
    return name


def _open(pg_engine, table, text_index="auto"):
    return open_backend(_postgres_url(), engine=pg_engine, table=table, text_index=text_index)


def _method(pg_engine, table) -> str | None:
    with pg_engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam"
                " WHERE c.oid = to_regclass(:i)"
            ),
            {"i": f"{table}_tsv_idx"},
        ).scalar()


@pytest.fixture
def rum(pg_engine):
    with pg_engine.connect() as conn:
        available = conn.execute(
            sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
        ).scalar()
    if not available:
        unavailable("the rum extension is not installed on the PostgreSQL server")


def _has_text_index(pg_engine, table) -> bool:
    return _method(pg_engine, table) is not None


def _hits(backend, query: str) -> set[str]:
    results = backend.search(SearchRequest(query, allowed_levels=LEVELS, per_page=100))
    return {h.doc_id for h in results.hits}


def test_empty_table_loads_without_the_index_and_builds_it_at_the_end(pg_engine, table):
    backend = _open(pg_engine, table)
    try:
        with backend.bulk_load():
            backend.add(CORPUS)
            assert not _has_text_index(pg_engine, table)
            during = _hits(backend, "违约金")  # slow without the index, still right
        assert _has_text_index(pg_engine, table)
        assert during and _hits(backend, "违约金") == during
    finally:
        backend.close()


def test_a_filled_table_keeps_its_index(pg_engine, table):
    backend = _open(pg_engine, table)
    try:
        backend.add(CORPUS[:3])
        with backend.bulk_load():
            backend.add(CORPUS[3:])
            assert _has_text_index(pg_engine, table)
    finally:
        backend.close()


def test_index_is_built_when_the_load_fails(pg_engine, table):
    backend = _open(pg_engine, table)
    try:
        with pytest.raises(RuntimeError), backend.bulk_load():
            backend.add(CORPUS[:4])
            raise RuntimeError("source failed")
        assert _has_text_index(pg_engine, table)
    finally:
        backend.close()


def test_a_killed_load_is_healed_by_the_next_open_and_resumed(pg_engine, table, tmp_path):
    first = _open(pg_engine, table)
    first.close()
    # What a reindex process killed inside its bulk load leaves: rows, no GIN index.
    with pg_engine.begin() as conn:
        conn.execute(sa.text(f'DROP INDEX "{table}_tsv_idx"'))
    second = _open(pg_engine, table)
    try:
        assert _has_text_index(pg_engine, table)
        report = reindex(second, CORPUS, checkpoint_path=str(tmp_path / "ckpt"), batch_size=5)
        assert report.indexed == len(CORPUS)
        assert _has_text_index(pg_engine, table)
        assert second.count() == len(CORPUS)
        assert _hits(second, "违约金")
    finally:
        second.close()


def test_auto_prefers_rum_and_an_existing_index_keeps_its_method(pg_engine, table, rum):
    backend = _open(pg_engine, table, "gin")
    backend.add(CORPUS[:3])
    backend.close()
    assert _method(pg_engine, table) == "gin"
    reopened = _open(pg_engine, table)  # auto: RUM is there, but the GIN index stays
    try:
        assert reopened.text_index_method == "gin" and _method(pg_engine, table) == "gin"
        reopened.clear()
        with reopened.bulk_load():  # an empty table is rebuilt with the preferred method
            reopened.add(CORPUS)
        assert reopened.text_index_method == "rum" and _method(pg_engine, table) == "rum"
        assert _hits(reopened, '"应向守约方支付违约金"')
    finally:
        reopened.close()


def test_gin_can_be_asked_for(pg_engine, table):
    backend = _open(pg_engine, table, "gin")
    try:
        assert backend.text_index_method == "gin" and _method(pg_engine, table) == "gin"
    finally:
        backend.close()


def test_unknown_text_index_is_refused(pg_engine, table):
    with pytest.raises(BackendError, match="text_index"):
        _open(pg_engine, table, "btree")
