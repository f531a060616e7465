"""Resumable reindex, drift detection and repair, on every backend."""

from __future__ import annotations

import json

import pytest

from indexing.search import CheckpointError, SearchRequest, diff, reindex, repair

from .corpus import EVERYTHING, doc

N = 45


def make_docs():
    return [
        doc(f"r{i:03d}", f"文件{i}", f"第{i}号文件 rtoken{i} 共同词 commonword") for i in range(N)
    ]


class Interrupted(Exception):
    pass


def test_reindex_resumes_after_an_interruption(backend, tmp_path):
    docs = make_docs()
    calls: list[str | None] = []
    fail_at: list[int | None] = [27]

    def source(after_id):
        calls.append(after_id)
        start = 0 if after_id is None else int(after_id[1:]) + 1
        for i in range(start, N):
            if i == fail_at[0]:
                raise Interrupted(i)
            yield docs[i]

    checkpoint = tmp_path / "reindex.json"
    progress = []
    with pytest.raises(Interrupted):
        reindex(
            backend,
            source,
            checkpoint_path=str(checkpoint),
            batch_size=10,
            on_progress=progress.append,
        )
    # Two full batches were committed; the third (r020..r026) was not.
    assert json.loads(checkpoint.read_text())["last_doc_id"] == "r019"
    assert backend.count() == 20
    assert [p.indexed for p in progress] == [10, 20]

    fail_at[0] = None
    report = reindex(backend, source, checkpoint_path=str(checkpoint), batch_size=10)
    assert calls == [None, "r019"]  # the second run started from the checkpoint
    assert report.resumed_after == "r019"
    assert report.indexed == N - 20
    assert report.last_doc_id == f"r{N - 1:03d}"
    assert not checkpoint.exists()
    ids = list(backend.doc_ids())
    assert len(ids) == len(set(ids)) == N
    assert backend.count() == N
    r = backend.search(SearchRequest("commonword", allowed_levels=set(EVERYTHING), per_page=100))
    assert r.total == N
    assert {
        h.doc_id for h in backend.search(SearchRequest("rtoken3", allowed_levels={"public"})).hits
    } == {"r003"}


def test_reindex_from_a_plain_iterable_skips_what_was_committed(backend, tmp_path):
    docs = make_docs()
    checkpoint = tmp_path / "reindex.json"

    def interrupted():
        for i, d in enumerate(docs):
            if i == 33:
                raise Interrupted(i)
            yield d

    with pytest.raises(Interrupted):
        reindex(backend, interrupted(), checkpoint_path=str(checkpoint), batch_size=15)
    assert backend.count() == 30
    report = reindex(backend, iter(docs), checkpoint_path=str(checkpoint), batch_size=15)
    assert report.indexed == N - 30
    assert sorted(backend.doc_ids()) == sorted(d.doc_id for d in docs)


def test_unreadable_checkpoint_is_a_typed_error(backend, tmp_path):
    checkpoint = tmp_path / "reindex.json"
    checkpoint.write_text("{not json")
    with pytest.raises(CheckpointError) as err:
        reindex(backend, [], checkpoint_path=str(checkpoint))
    assert err.value.path == str(checkpoint)


def test_diff_and_repair(backend):
    docs = make_docs()[:10]
    backend.add(docs)
    expected = [d.doc_id for d in docs[:8]] + ["new1", "new2"]
    drift = diff(backend, expected)
    assert drift.missing == ["new1", "new2"]
    assert drift.extra == ["r008", "r009"]
    assert not drift.clean

    loaded: list[list[str]] = []

    def load(ids):
        loaded.append(list(ids))
        return [doc(i, "补录", f"补录文件 {i}") for i in ids]

    report = repair(backend, drift, load)
    assert loaded == [["new1", "new2"]]
    assert (report.added, report.removed) == (2, 2)
    assert diff(backend, expected).clean
    assert backend.count() == 10
