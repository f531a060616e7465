"""The tag filter on every backend: a document matches when it carries every tag asked
for; a rewritten entry carries its new tags; indexes made before documents had tags
(Whoosh, Tantivy, PostgreSQL table) gain them when opened, keeping their documents."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
import tantivy
from whoosh import index as whoosh_index

from indexing.search import (
    IndexDocument,
    SearchBackend,
    SearchRequest,
    open_backend,
    tantivy_backend,
    whoosh_backend,
)
from indexing.search.backend import _analyse_one
from tests.search.conftest import _postgres_url

LEVELS = {"internal"}


def _doc(doc_id: str, text: str, tags: tuple[str, ...] = (), class_code: str = "contract"):
    return IndexDocument(
        doc_id, "a1", "KH-1", class_code, "ready", "internal", "t", text, tags=tags
    )


def _ids(backend: SearchBackend, query: str = "", **filters) -> list[str]:
    results = backend.search(SearchRequest(query, LEVELS, sort="date", **filters))
    assert results.total == len(results.hits)
    return sorted(hit.doc_id for hit in results.hits)


def test_tag_filter_matches_documents_with_every_tag(backend: SearchBackend) -> None:
    backend.add(
        [
            _doc("1", "违约金 penalty", ("urgent", "待补 资料")),
            _doc("2", "违约金 penalty", ("urgent",)),
            _doc("3", "penalty", ("待补 资料",), class_code="invoice"),
            _doc("4", "penalty"),
        ]
    )
    assert _ids(backend, tags=["urgent"]) == ["1", "2"]
    assert _ids(backend, tags=["urgent", "待补 资料"]) == ["1"]
    assert _ids(backend, "penalty", tags=["待补 资料"]) == ["1", "3"]
    assert _ids(backend, "违约金", tags=["待补 资料"]) == ["1"]
    assert _ids(backend, tags=["待补 资料"], class_codes=["invoice"]) == ["3"]
    assert _ids(backend, tags=["urgen"]) == []  # exact names, not prefixes
    assert _ids(backend, tags=[]) == ["1", "2", "3", "4"]
    # The permission filter still applies.
    assert backend.search(SearchRequest("", {"public"}, tags=["urgent"])).total == 0
    # A rewritten entry carries its new tags only.
    backend.add([_doc("2", "违约金 penalty", ("done",))])
    assert _ids(backend, tags=["urgent"]) == ["1"]
    assert _ids(backend, tags=["done"]) == ["2"]
    facets = backend.search(SearchRequest("", LEVELS, tags=["urgent"])).facets
    assert facets["class"] == {"contract": 1}


def _old_tantivy(path: Path) -> None:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("doc_id", stored=True, tokenizer_name="raw", fast=True)
    for name in tantivy_backend.KEYWORD_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", fast=True)
    builder.add_text_field("title", tokenizer_name="raw")
    builder.add_text_field("body", tokenizer_name="raw")
    builder.add_integer_field("document_day", indexed=True, fast=True)
    builder.add_integer_field("amount_cents", indexed=True, fast=True)
    builder.add_bytes_field("postings", stored=True)
    os.makedirs(path)
    index = tantivy.Index(builder.build(), path=str(path))
    writer = index.writer()
    postings = tantivy_backend.encode_postings(_analyse_one(_doc("1", "penalty")))
    writer.add_document(tantivy_backend._document(postings)[1])
    writer.commit()
    writer.wait_merging_threads()


@pytest.mark.parametrize("kind", ["whoosh", "tantivy", "postgresql"])
def test_an_index_made_before_tags_gains_them(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    path = tmp_path / "index"
    if kind == "whoosh":
        schema = whoosh_backend._schema()
        schema.remove("tags")
        os.makedirs(path)
        whoosh_index.create_in(str(path), schema)
        url, options = f"whoosh://{path}", {}
    elif kind == "tantivy":
        _old_tantivy(path)
        url, options = f"tantivy://{path}", {}
    else:
        engine = request.getfixturevalue("pg_engine")
        table = f"search_old{os.getpid()}"
        url, options = _postgres_url(), {"engine": engine, "table": table, "text_index": "gin"}
    if kind == "postgresql":
        old = open_backend(url, **options)
        request.addfinalizer(lambda: open_backend(url, **options).drop())
        old.add([_doc("1", "penalty")])
        old.close()
        with options["engine"].begin() as conn:
            conn.execute(sa.text(f'ALTER TABLE "{table}" DROP COLUMN tags'))
    backend = open_backend(url, **options)
    request.addfinalizer(backend.close)
    backend.add([_doc("2", "penalty", ("urgent",))])
    assert _ids(backend, tags=["urgent"]) == ["2"]
    # The documents indexed before are still found.
    assert _ids(backend, "penalty") == (["2"] if kind == "whoosh" else ["1", "2"])
