"""Tantivy specifics: purge within a shared segment, the writer lock, reopening."""

from __future__ import annotations

import pytest
import tantivy

from indexing.search import IndexLocked, SearchRequest, open_backend

from .corpus import CORPUS, EVERYTHING, doc

RARE = "qzwvxtoken"


def body_doc_freq(path: str, term: str) -> int:
    """Documents the body postings on disk list for ``term``, deleted ones included."""
    return tantivy.Index.open(path).searcher().doc_freq("body", term)


def found(backend, query: str) -> set[str]:
    r = backend.search(SearchRequest(query, allowed_levels=set(EVERYTHING), per_page=100))
    return {h.doc_id for h in r.hits}


def test_purge_removes_a_deleted_document_that_shares_a_segment(tmp_path):
    # One writer thread, one add: the deleted document's segment keeps live documents, so
    # deleting only marks it deleted and its postings stay until purge rewrites them.
    with open_backend(f"tantivy://{tmp_path}/index", writer_threads=1) as backend:
        backend.add([*CORPUS, doc("gone", "待销毁", f"正文 {RARE}")])
        backend.delete(["gone"])
        assert found(backend, RARE) == set()
        assert body_doc_freq(backend.path, RARE) == 1
        backend.purge()
        assert body_doc_freq(backend.path, RARE) == 0
        assert found(backend, "违约金") == {"c1", "c2", "c4", "c5"}
        assert sorted(backend.doc_ids()) == sorted(d.doc_id for d in CORPUS)


def test_instances_take_turns_writing_and_a_busy_writer_makes_them_wait(tmp_path):
    # As the web process, a worker and the CLI would: each keeps its backend open.
    url = f"tantivy://{tmp_path}/index"
    with open_backend(url) as web, open_backend(url, lock_timeout=0) as worker:
        web.add(CORPUS[:2])
        assert worker.add(CORPUS[2:4]) == 2
        web.delete([CORPUS[0].doc_id])
        assert worker.count() == 3
        # A writer held elsewhere (a long reindex, say) makes a write wait, then fail.
        held = tantivy.Index.open(f"{tmp_path}/index").writer()
        with pytest.raises(IndexLocked):
            worker.add(CORPUS[4:5])
        held.rollback()
        held.wait_merging_threads()  # releases the lock
        assert worker.add(CORPUS[4:5]) == 1
        assert web.count() == 4


def test_reopening_an_index_finds_its_documents(tmp_path):
    url = f"tantivy://{tmp_path}/index"
    with open_backend(url) as backend:
        backend.add(CORPUS)
    with open_backend(url) as backend:
        assert backend.count() == len(CORPUS)
        assert found(backend, '"late delivery"') == {"c2"}
        backend.delete(["c2"])
        assert found(backend, '"late delivery"') == set()


def test_relative_url_and_parallel_analysis(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_backend("tantivy://index", analysis_workers=2) as backend:
        assert backend.path == str(tmp_path / "index")
        backend.add(iter(CORPUS))
        assert found(backend, "违约金") == {"c1", "c2", "c4", "c5"}
        # The analysis workers live on between calls; they must not keep the writer's lock.
        backend.delete(["c1"])
        backend.add([doc("late", "补充协议", "违约金 另计")])
        assert found(backend, "违约金") == {"c2", "c4", "c5", "late"}
