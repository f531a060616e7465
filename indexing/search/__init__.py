"""Full-text search over document text and metadata, in Chinese and English.

A plain library (no Flask, no ``archive_app``). Typical use::

    from indexing.search import IndexDocument, SearchRequest, open_backend, make_snippet

    backend = open_backend("whoosh:///srv/archive/instance/index")   # or "postgresql://..."
    backend.add([IndexDocument(doc_id=..., text=decrypted_text, ...)])
    results = backend.search(SearchRequest("违约金 OR \\"late delivery\\"",
                                           allowed_levels={"public", "internal"}))
    for hit in results.hits:
        snippet = make_snippet(decrypt(hit.doc_id), request.query)

The index stores postings and filter/sort metadata, never document text; snippets are cut
at query time from text the caller decrypts.
"""

from .analysis import index_terms, normalize, query_units, warm_up
from .backend import (
    DEFAULT_TOTAL_CAP,
    Hit,
    IndexDocument,
    SearchBackend,
    SearchRequest,
    SearchResults,
    open_backend,
)
from .errors import (
    BackendError,
    CheckpointError,
    IndexLocked,
    InvalidSearchRequest,
    PurgeIncomplete,
    QuerySyntaxError,
    SearchError,
    UnknownFieldError,
    UnsupportedBackendURL,
)
from .maintenance import (
    Drift,
    ReindexProgress,
    ReindexReport,
    RepairReport,
    diff,
    reindex,
    repair,
)
from .query import parse_query
from .snippets import make_snippet

__all__ = [
    "DEFAULT_TOTAL_CAP",
    "BackendError",
    "CheckpointError",
    "Drift",
    "Hit",
    "IndexDocument",
    "IndexLocked",
    "InvalidSearchRequest",
    "PurgeIncomplete",
    "QuerySyntaxError",
    "ReindexProgress",
    "ReindexReport",
    "RepairReport",
    "SearchBackend",
    "SearchError",
    "SearchRequest",
    "SearchResults",
    "UnknownFieldError",
    "UnsupportedBackendURL",
    "diff",
    "index_terms",
    "make_snippet",
    "normalize",
    "open_backend",
    "parse_query",
    "query_units",
    "reindex",
    "repair",
    "warm_up",
]
