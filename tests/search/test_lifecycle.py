"""Writing to a backend: upsert, delete, purge, clear; and what the index keeps on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
import tantivy

from indexing.search import SearchRequest, open_backend

from .conftest import make_backend
from .corpus import CORPUS, EVERYTHING, doc

RARE_LATIN = "zxqvbtoken"
RARE_CHINESE = "鳕鲟"  # cod + sturgeon: appears in no other test document
SENTENCES = [
    "应向守约方支付违约金",
    "如一方违约",
    "The supplier shall deliver",
    "supplier shall",
    "双方就违约金条款达成一致",
    "Late delivery shall incur",
    "机密：收购方案",
    "出租方将位于鑫源大厦的办公室",
]


def found(backend, query: str) -> set[str]:
    r = backend.search(SearchRequest(query, allowed_levels=set(EVERYTHING), per_page=100))
    return {h.doc_id for h in r.hits}


def index_dir_bytes(backend) -> bytes:
    """Every file of an embedded backend's index folder (Whoosh, Tantivy)."""
    return b"".join(p.read_bytes() for p in Path(backend.path).iterdir() if p.is_file())


def postgres_rows(backend) -> bytes:
    """Everything the search table returns, as text (metadata + tsvector)."""
    with backend.engine.connect() as conn:
        rows = conn.execute(
            sa.text(f'SELECT row_to_json(t)::text FROM "{backend.table_name}" t')
        ).scalars()
        return "\n".join(rows).encode("utf-8")


def postgres_files(backend) -> bytes | None:
    """The table's data files (heap, TOAST, indexes), or None if they cannot be read here."""
    with backend.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        try:
            conn.execute(sa.text("CHECKPOINT"))
            data_dir = conn.execute(sa.text("SHOW data_directory")).scalar_one()
            rels = conn.execute(
                sa.text(
                    "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.oid = CAST(:t AS regclass)"
                    " OR c.oid = (SELECT reltoastrelid FROM pg_class WHERE oid = CAST(:t AS regclass))"
                    " OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = CAST(:t AS regclass))"
                ),
                {"t": backend.table_name},
            ).scalars()
            paths = [os.path.join(data_dir, r) for r in rels if r]
        except sa.exc.DBAPIError:
            return None
    out = b""
    for base in paths:
        for suffix in ("", ".1", ".2"):
            try:
                out += Path(base + suffix).read_bytes()
            except FileNotFoundError:
                continue
            except PermissionError:
                return None
    return out


def stored_bytes(backend) -> bytes:
    return postgres_rows(backend) if backend.name == "postgresql" else index_dir_bytes(backend)


def terms_on_disk(backend, terms: set[str]) -> set[str]:
    """Which of ``terms`` the index storage still holds, deleted documents included."""
    if backend.name == "tantivy":
        # Tantivy's term dictionary is an FST: terms are not plain bytes in the files. A
        # fresh reader of the files counts every document a term's postings still list.
        searcher = tantivy.Index.open(backend.path).searcher()
        return {t for t in terms if any(searcher.doc_freq(f, t) for f in ("title", "body"))}
    data = stored_bytes(backend)
    return {t for t in terms if t.encode("utf-8") in data}


def test_upsert_replaces_a_document(backend):
    backend.add([doc("u1", "旧标题", "旧的正文 oldword")])
    backend.add([doc("u1", "新标题", "新的正文 newword"), doc("u2", "其他", "其他正文")])
    assert backend.count() == 2
    assert found(backend, "oldword") == set()
    assert found(backend, "newword") == {"u1"}
    assert found(backend, "新标题") == {"u1"}
    # The same id twice in one call: the last version wins, once.
    backend.add([doc("u3", "a", "first version"), doc("u3", "b", "second version")])
    assert found(backend, "version") == {"u3"}
    assert found(backend, "first") == set()
    assert sorted(backend.doc_ids()) == ["u1", "u2", "u3"]


def test_index_never_contains_body_text(backend):
    backend.add(CORPUS)
    data = stored_bytes(backend)
    assert b"c1" in data  # the doc id is there: the check looks at the right bytes
    for sentence in SENTENCES:
        assert sentence.encode("utf-8") not in data, sentence
        assert sentence.casefold().encode("utf-8") not in data, sentence


def test_deleted_and_purged_document_is_gone_from_the_index_files(backend):
    backend.add(CORPUS)
    backend.add(
        [doc("gone", "待销毁文件", f"销毁前的正文含有{RARE_CHINESE}与 {RARE_LATIN} 两个罕见词。")]
    )
    assert found(backend, RARE_LATIN) == {"gone"}
    assert found(backend, RARE_CHINESE) == {"gone"}
    rare = {RARE_LATIN, RARE_CHINESE}
    assert terms_on_disk(backend, rare) == rare

    backend.delete(["gone"])
    assert found(backend, RARE_LATIN) == set()
    assert found(backend, RARE_CHINESE) == set()
    backend.purge()

    assert terms_on_disk(backend, rare) == set()
    assert b"gone" not in stored_bytes(backend)
    assert found(backend, "违约金") == {"c1", "c2", "c4", "c5"}  # the rest still works
    assert backend.count() == len(CORPUS)
    assert "gone" not in set(backend.doc_ids())


def test_postgres_purge_rewrites_the_data_files(request, tmp_path):
    backend = make_backend("postgresql", request, tmp_path)
    backend.add([doc("gone", "待销毁文件", f"正文 {RARE_LATIN} 与{RARE_CHINESE}")])
    files = postgres_files(backend)
    if files is None:
        pytest.skip("the PostgreSQL data directory is not readable from the tests")
    assert RARE_LATIN.encode() in files
    backend.delete(["gone"])
    backend.purge()
    files = postgres_files(backend)
    assert RARE_LATIN.encode() not in files
    assert RARE_CHINESE.encode("utf-8") not in files


def test_clear_empties_the_index(backend):
    backend.add(CORPUS)
    backend.clear()
    assert backend.count() == 0
    assert list(backend.doc_ids()) == []
    assert found(backend, "违约金") == set()
    backend.add(CORPUS[:2])
    assert found(backend, "违约金") == {"c1", "c2"}


def test_parallel_analysis_workers_index_the_same(tmp_path):
    with open_backend(f"whoosh://{tmp_path}/index", analysis_workers=2) as backend:
        backend.add(iter(CORPUS))
        assert found(backend, "违约金") == {"c1", "c2", "c4", "c5"}
        assert found(backend, '"late delivery"') == {"c2"}
        assert backend.count() == len(CORPUS)
