"""Fixtures: every backend test runs against Whoosh and Tantivy (each in a temporary
directory) and PostgreSQL, once with its RUM text index and once with the GIN fallback.

PostgreSQL: ``ARCHIVE_TEST_POSTGRES_URL`` or the local server's ``test`` database. Each
backend instance gets its own table (``search_t<pid>_<n>``), dropped afterwards, so
concurrent runs do not clash. When the server is unreachable the PostgreSQL cases skip with
the reason, unless ``ARCHIVE_TEST_REQUIRE_SERVICES=1`` (CI), which makes that a failure;
the same holds for a server without the ``rum`` extension (the RUM cases).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from indexing.search import BackendError, IndexDocument, SearchBackend, open_backend
from tests.conftest import unavailable

from .corpus import CORPUS

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ["whoosh", "tantivy", "postgresql", "postgresql-gin"]
_tables = itertools.count()


def _postgres_url() -> str:
    return os.environ.get("ARCHIVE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[sa.Engine]:
    url = _postgres_url()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        engine.dispose()
        unavailable(f"PostgreSQL unreachable at {sa.make_url(url).render_as_string()}: {exc}")
    yield engine
    engine.dispose()


def make_backend(kind: str, request: pytest.FixtureRequest, tmp_dir) -> SearchBackend:
    if kind in ("whoosh", "tantivy"):
        backend = open_backend(f"{kind}://{tmp_dir}/index")
        request.addfinalizer(backend.close)
        return backend
    engine = request.getfixturevalue("pg_engine")
    table = f"search_t{os.getpid()}_{next(_tables)}"
    text_index = "gin" if kind == "postgresql-gin" else "rum"
    try:
        backend = open_backend(_postgres_url(), engine=engine, table=table, text_index=text_index)
    except BackendError as exc:
        unavailable(str(exc))

    def drop() -> None:
        backend.drop()
        backend.close()

    request.addfinalizer(drop)
    return backend


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path) -> SearchBackend:
    """An empty backend, one per test."""
    return make_backend(request.param, request, tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def corpus_backend(request: pytest.FixtureRequest, tmp_path_factory) -> SearchBackend:
    """A backend holding the shared corpus; tests using it must not modify it."""
    backend = make_backend(request.param, request, tmp_path_factory.mktemp("corpus"))
    backend.add(CORPUS)
    return backend


def docs_by_id() -> dict[str, IndexDocument]:
    return {d.doc_id: d for d in CORPUS}
