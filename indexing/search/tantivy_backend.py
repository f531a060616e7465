"""The compiled embedded search backend: a Tantivy index in one directory.

``tantivy:///abs/path/to/dir`` (or ``tantivy://relative/dir``). Tantivy is fed the tokens
our own analyser makes (``index_terms``: CJK bigrams, lone last characters, jieba words,
stemmed Latin words, with the same positions as the other backends) as pre-tokenized text
on ``title`` and ``body``; it never tokenizes text itself. Queries are compiled from the
same parser and query units as the other backends; relevance is Tantivy's BM25 (title
matches boosted x2, as in Whoosh) over every match, so ``ranked_window`` is always None.

What the index holds on disk:

* per document, indexed and as fast (column) fields: doc id, archive id, archive number,
  class code, status, level, document date (a day ordinal, 0 when undated) and amount (in
  cents); for ``title`` and ``body`` a term dictionary and postings with positions;
* stored: the doc id and ``postings``, a zlib-compressed copy of the document's analysed
  terms and positions plus its metadata. No text, no character offsets.

Why ``postings`` is stored: deleting only marks documents deleted, their terms stay in the
segment files until the segment is merged, and tantivy-py 0.27 exposes no way to force a
merge. :meth:`TantivyBackend.purge` therefore rebuilds the index in place from the stored
copies of the live documents (one commit that drops every old segment), then removes the
old files: afterwards the deleted documents' terms are physically gone from the index
files. The copy holds exactly what the postings already hold, so, as with the other
backends, terms + positions allow rebuilding a body's normalised token sequence: protect
the folder like the text itself.

Memory: while a writer is open, glibc's malloc mmap threshold is fixed at 512 KiB for the
whole process (``mallopt(M_MMAP_THRESHOLD)``; nothing is changed on other C libraries); when
the last writing call ends it is set to glibc's own 32 MiB ceiling, so searches keep
reusing freed memory as glibc does by default. Tantivy's writer grows its indexing arena in
1 MiB blocks and frees them at every commit; with glibc's default, the first such free
raises the threshold above 1 MiB, so later blocks come from the malloc arenas of the
writer's threads, which keep the freed memory: a reindex of 100,000 documents (a new
writer per batch) peaked at 0.94-1.08 GB. With the threshold fixed while writing, those
blocks are mapped and unmapped on their own, and the same reindex peaked at 666 MB
(bench/RESULTS.md).

Segments and merges are Tantivy's default log merge policy, as before: every ``add``
writes its batch as one segment per writer thread and eight or more segments of a similar
size are merged into one in the background (finished before the writer is released), so a
reindex in batches yields the same documents, terms and hits as one large ``add``.

Concurrency: Tantivy allows one writer per directory (a lock file). Each writing call
(``add``, ``delete``, ``purge``, ``clear``) opens the writer and releases it before it
returns, so the web process, the workers and the CLI can all write to one index; a call
that finds the writer busy in another process waits up to ``lock_timeout`` seconds, then
raises :class:`IndexLocked`. Readers are never blocked; searches see this instance's
commits at once and other processes' commits shortly after they land.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import platform
import shutil
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import tantivy

from .analysis import PhraseUnit, PrefixUnit, TermUnit, Unit, query_units
from .backend import (
    AnalysedDocument,
    Analyser,
    Hit,
    IndexDocument,
    SearchRequest,
    SearchResults,
    capped,
)
from .errors import BackendError, IndexLocked
from .query import And, MatchAll, Node, Not, Or, Phrase, Word, parse_query

__all__ = ["TantivyBackend", "bounded_malloc"]

NAME = "tantivy"
KEYWORD_FIELDS = ("archive_id", "archive_number", "class_code", "status", "level")
TITLE_BOOST = 2.0
# Facets list every value; these caps only bound Tantivy's bucket output.
FACET_SIZES = {"class": 10_000, "archive": 1_000_000}
FACET_FIELDS = {"class": "class_code", "archive": "archive_id"}
LOCK_RETRY_SECONDS = 0.1
# glibc's mallopt parameters (malloc.h) and the values used while a writer is open, and after.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
WRITING_MMAP_THRESHOLD = 512 * 1024  # below the writer arena's 1 MiB blocks
# The ceiling glibc's own dynamic threshold reaches on 64-bit systems, with the trim
# threshold it pairs with it (twice): reads reuse freed memory instead of mapping it again.
READING_MMAP_THRESHOLD = 32 * 2**20
READING_TRIM_THRESHOLD = 64 * 2**20
_writing_calls = 0
_writing_calls_lock = threading.Lock()


@functools.cache
def _glibc_mallopt() -> Any:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None


@contextlib.contextmanager
def bounded_malloc() -> Iterator[bool]:
    """While writing, map glibc's large blocks on their own (see the module docstring);
    yields whether the bound applies (glibc only). Process-wide; nested and concurrent
    blocks keep it until the last one ends."""
    global _writing_calls
    mallopt = _glibc_mallopt()
    if mallopt is None:
        yield False
        return
    with _writing_calls_lock:
        _writing_calls += 1
        applied = bool(mallopt(M_MMAP_THRESHOLD, WRITING_MMAP_THRESHOLD))
    try:
        yield applied
    finally:
        with _writing_calls_lock:
            _writing_calls -= 1
            if _writing_calls == 0:
                mallopt(M_MMAP_THRESHOLD, READING_MMAP_THRESHOLD)
                mallopt(M_TRIM_THRESHOLD, READING_TRIM_THRESHOLD)


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("doc_id", stored=True, tokenizer_name="raw", fast=True)
    for name in KEYWORD_FIELDS:
        b.add_text_field(name, tokenizer_name="raw", fast=True)
    b.add_text_field("tags", tokenizer_name="raw")  # one value per tag
    b.add_text_field("title", tokenizer_name="raw")
    b.add_text_field("body", tokenizer_name="raw")
    # Day ordinals and cents as integers: exact, and free of the date type's 1677..2262
    # range; 0 (no real day) marks undated documents, which sort as the oldest.
    b.add_integer_field("document_day", indexed=True, fast=True)
    b.add_integer_field("amount_cents", indexed=True, fast=True)
    b.add_bytes_field("postings", stored=True)
    return b.build()


def _has_field(schema: tantivy.Schema, name: str) -> bool:
    try:
        tantivy.Query.term_query(schema, name, "")
    except ValueError:
        return False
    return True


def _cents(amount: Decimal) -> int:
    return int((Decimal(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _day(d: date | None) -> int:
    return d.toordinal() if d is not None else 0


# ------------------------------------------------------------------ stored postings copy


def _pack_terms(pairs: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    # Positions as deltas: mostly 0 and 1, which compress to almost nothing.
    terms, deltas, previous = [], [], 0
    for term, pos in pairs:
        terms.append(term)
        deltas.append(pos - previous)
        previous = pos
    return terms, deltas


def _unpack_terms(terms: list[str], deltas: list[int]) -> list[tuple[str, int]]:
    pairs, pos = [], 0
    for term, delta in zip(terms, deltas, strict=True):
        pos += delta
        pairs.append((term, pos))
    return pairs


def encode_postings(ad: AnalysedDocument) -> bytes:
    """One document's metadata and analysed terms, compressed (runs in analysis workers:
    plain bytes pickle cheaply, tantivy objects do not pickle at all)."""
    d = ad.doc
    amount = _cents(d.amount) if d.amount is not None else None
    row = [
        d.doc_id,
        [getattr(d, name) for name in KEYWORD_FIELDS],
        _day(d.document_date),
        amount,
        *_pack_terms(ad.title_terms),
        *_pack_terms(ad.body_terms),
        list(d.tags),
    ]
    return zlib.compress(json.dumps(row, ensure_ascii=False).encode("utf-8"), 1)


def _tokens(pairs: list[tuple[str, int]]) -> tantivy.PreTokenizedString:
    return tantivy.PreTokenizedString("", [tantivy.Token(t, p, 0, 0) for t, p in pairs])


def _document(postings: bytes) -> tuple[str, tantivy.Document]:
    row = json.loads(zlib.decompress(postings))
    doc_id, keywords, day, cents, t_terms, t_deltas, b_terms, b_deltas = row[:8]
    tags = row[8] if len(row) > 8 else []  # copies stored before documents had tags
    doc = tantivy.Document()
    doc.add_text("doc_id", doc_id)
    for name, value in zip(KEYWORD_FIELDS, keywords, strict=True):
        doc.add_text(name, value)
    for tag in tags:
        doc.add_text("tags", tag)
    doc.add_pre_tokenized_text("title", _tokens(_unpack_terms(t_terms, t_deltas)))
    doc.add_pre_tokenized_text("body", _tokens(_unpack_terms(b_terms, b_deltas)))
    doc.add_integer("document_day", day)
    if cents is not None:
        doc.add_integer("amount_cents", cents)
    doc.add_bytes("postings", postings)
    return doc_id, doc


# ---------------------------------------------------------------------------- backend


class TantivyBackend:
    """Tantivy index in ``path`` (created if missing). One writer, many readers."""

    name = NAME

    def __init__(
        self,
        path: str,
        *,
        analysis_workers: int = 1,
        lock_timeout: float = 30.0,
        commit_every: int = 5000,
        writer_heap_mb: int = 256,
        writer_threads: int = 2,
    ) -> None:
        if not path:
            raise BackendError(NAME, "no index directory given (tantivy:///path/to/dir)")
        self.path = os.path.abspath(path)
        self.lock_timeout = lock_timeout
        self.commit_every = commit_every
        self.writer_heap_mb = writer_heap_mb
        self.writer_threads = writer_threads
        self._analyser = Analyser(analysis_workers, finish=encode_postings)
        self._lock = threading.RLock()
        self._writer: tantivy.IndexWriter | None = None
        try:
            os.makedirs(self.path, exist_ok=True)
            if tantivy.Index.exists(self.path):
                self._index = tantivy.Index.open(self.path)
                if not _has_field(self._index.schema, "tags"):
                    self._index = self._rebuilt_with_current_schema()
            else:
                self._index = tantivy.Index(_schema(), path=self.path)
        except (OSError, ValueError) as exc:
            raise BackendError(NAME, f"cannot open index at {self.path}: {exc}") from exc
        self._schema = self._index.schema

    def _rebuilt_with_current_schema(self) -> tantivy.Index:
        """An index made before documents had tags is rebuilt once from its stored
        postings copies (a schema is fixed at creation): into a new folder beside it,
        which then takes its place."""
        with self._lock, bounded_malloc():
            writer = self._acquire_writer()  # keeps other writers out while it is copied
            searcher = self._fresh_searcher()
            postings = [searcher.doc(a)["postings"][0] for a in self._all_addresses(searcher)]
            fresh_path = f"{self.path}.rebuild"
            shutil.rmtree(fresh_path, ignore_errors=True)
            os.makedirs(fresh_path)
            fresh = tantivy.Index(_schema(), path=fresh_path)
            fresh_writer = fresh.writer(heap_size=self.writer_heap_mb * 2**20, num_threads=1)
            for item in postings:
                fresh_writer.add_document(_document(item)[1])
            fresh_writer.commit()
            fresh_writer.wait_merging_threads()
            old_path = f"{self.path}.old"
            shutil.rmtree(old_path, ignore_errors=True)
            os.rename(self.path, old_path)
            os.rename(fresh_path, self.path)
            self._writer = None
            del writer  # frees the old folder's lock
            shutil.rmtree(old_path)
            return tantivy.Index.open(self.path)

    # ------------------------------------------------------------------ writing

    def _acquire_writer(self) -> tantivy.IndexWriter:
        if self._writer is not None:
            return self._writer
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                self._writer = self._index.writer(
                    heap_size=self.writer_heap_mb * 2**20, num_threads=self.writer_threads
                )
                return self._writer
            except ValueError as exc:
                if "lock" not in str(exc).lower():
                    raise BackendError(NAME, f"cannot open a writer: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise IndexLocked(NAME, self.path, self.lock_timeout) from exc
                time.sleep(LOCK_RETRY_SECONDS)

    def _commit(self, writer: tantivy.IndexWriter) -> None:
        try:
            writer.commit()
        except ValueError as exc:
            raise BackendError(NAME, f"commit failed: {exc}") from exc
        # Searches in this instance must see the commit now, not after the reload delay.
        self._index.reload()

    def _abort(self, writer: tantivy.IndexWriter) -> None:
        with contextlib.suppress(ValueError):  # the error being propagated matters more
            writer.rollback()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[tantivy.IndexWriter]:
        """The writer for one call: rolled back on error, always released at the end."""
        with self._lock, bounded_malloc():
            writer = self._acquire_writer()
            try:
                yield writer
            except BaseException:
                self._abort(writer)
                raise
            finally:
                self._release_writer()

    def add(self, docs: Iterable[IndexDocument]) -> int:
        written = 0
        # Start the analysis workers (a pool, on first use) before taking the writer, so
        # the writer's lock is held only while documents are written.
        analysed = self._analyser.map(docs)
        with self._writing() as writer:
            for postings in analysed:
                doc_id, doc = _document(postings)
                # Deletes apply to every earlier operation, including documents added by
                # this writer and not committed yet: the same id twice keeps the last.
                writer.delete_documents_by_term("doc_id", doc_id)
                writer.add_document(doc)
                written += 1
                if written % self.commit_every == 0:
                    self._commit(writer)  # bounds what a failure loses and what waits
            self._commit(writer)
        return written

    def delete(self, doc_ids: Iterable[str]) -> int:
        n = 0
        with self._writing() as writer:
            for doc_id in doc_ids:
                writer.delete_documents_by_term("doc_id", doc_id)
                n += 1
            self._commit(writer)
        return n

    def purge(self) -> None:
        """Rebuild every live document from its stored postings copy in one commit, which
        drops all old segments (and with them deleted documents' terms), then remove the
        old files. Takes as long as indexing the live documents once."""
        with self._lock, bounded_malloc():
            writer = self._acquire_writer()
            self._commit(writer)
            searcher = self._fresh_searcher()
            addresses = self._all_addresses(searcher)
            try:
                writer.delete_all_documents()
                for address in addresses:
                    _doc_id, doc = _document(searcher.doc(address)["postings"][0])
                    writer.add_document(doc)
            except BaseException:
                self._abort(writer)
                raise
            self._commit(writer)
            self._release_writer(collect_garbage=True)

    def bulk_load(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to defer: every add() already writes its batch as one segment."""
        return contextlib.nullcontext()

    def clear(self) -> None:
        with self._lock, bounded_malloc():
            writer = self._acquire_writer()
            writer.delete_all_documents()
            self._commit(writer)
            self._release_writer(collect_garbage=True)

    def _release_writer(self, *, collect_garbage: bool = False) -> None:
        """Finish merges, optionally delete files no commit uses, and free the lock."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        try:
            writer.wait_merging_threads()
            if collect_garbage:
                # A new writer sees the finished merges; garbage collection then removes
                # every file the last commit no longer references.
                gc_writer = self._acquire_writer()
                gc_writer.garbage_collect_files()
                self._writer = None
                gc_writer.wait_merging_threads()
        except ValueError as exc:
            raise BackendError(NAME, f"cannot finish writing: {exc}") from exc
        self._index.reload()

    # ------------------------------------------------------------------ reading

    def _fresh_searcher(self) -> tantivy.Searcher:
        # Other processes (web, workers, CLI) commit to the same folder: reloading reads the
        # small meta file, so every search sees every commit made before it started.
        self._index.reload()
        return self._index.searcher()

    def count(self) -> int:
        return self._fresh_searcher().num_docs

    def _all_addresses(self, searcher: tantivy.Searcher) -> list[Any]:
        total = searcher.num_docs
        if total == 0:
            return []
        result = searcher.search(
            tantivy.Query.all_query(),
            limit=total,
            count=False,
            order_by_field="doc_id",
            order=tantivy.Order.Asc,
        )
        return [address for _key, address in result.hits]

    def doc_ids(self) -> Iterator[str]:
        searcher = self._fresh_searcher()
        ids = [searcher.doc(a)["doc_id"][0] for a in self._all_addresses(searcher)]
        return iter(ids)

    def search(self, request: SearchRequest) -> SearchResults:
        request.validate()
        empty = SearchResults.nothing(request)
        if not request.allowed_levels or any(
            f is not None and not f
            for f in (request.archive_ids, request.class_codes, request.statuses)
        ):
            return empty
        compiler = _Compiler(self._schema)
        matched = compiler.compile(parse_query(request.query))
        if matched is None:
            return empty
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, matched)]
            + [(tantivy.Occur.Must, f) for f in compiler.filters(request)]
        )
        searcher = self._fresh_searcher()
        kwargs: dict[str, Any] = {
            "limit": request.per_page,
            "offset": (request.page - 1) * request.per_page,
            "count": True,
        }
        if request.sort != "relevance":
            kwargs["order_by_field"] = "document_day"
            kwargs["order"] = tantivy.Order.Asc if request.sort == "date" else tantivy.Order.Desc
        try:
            result = searcher.search(query, **kwargs)
            hits = [
                Hit(
                    searcher.doc(address)["doc_id"][0],
                    float(key) if request.sort == "relevance" else 0.0,
                )
                for key, address in result.hits
            ]
            facets = self._facets(searcher, query) if request.facets else {}
        except ValueError as exc:
            raise BackendError(NAME, f"search failed: {exc}") from exc
        total, exact, facets = capped(result.count or 0, facets, request.total_cap)
        return SearchResults(total, hits, facets, total_exact=exact)

    @staticmethod
    def _facets(searcher: tantivy.Searcher, query: tantivy.Query) -> dict[str, dict[str, int]]:
        spec = {
            name: {"terms": {"field": FACET_FIELDS[name], "size": FACET_SIZES[name]}}
            for name in FACET_FIELDS
        }
        answer = searcher.aggregate(query, spec)
        return {
            name: {b["key"]: int(b["doc_count"]) for b in answer.get(name, {}).get("buckets", [])}
            for name in FACET_FIELDS
        }

    def close(self) -> None:
        with self._lock, bounded_malloc():
            self._release_writer()
        self._analyser.close()

    def __enter__(self) -> TantivyBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------- compile


def _regex_escape(text: str) -> str:
    return "".join("\\" + c if c in ".^$*+?()[]{}|\\" else c for c in text)


def _should(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])


def _must(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])


class _Compiler:
    """AST nodes to Tantivy queries with the Whoosh backend's semantics; None means
    "matches nothing"."""

    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema

    def term(self, field: str, text: str) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, field, text)

    def unit(self, unit: Unit, field: str) -> tantivy.Query:
        if isinstance(unit, TermUnit):
            q = self.term(field, unit.term)
        elif isinstance(unit, PrefixUnit):
            q = tantivy.Query.regex_query(self.schema, field, _regex_escape(unit.prefix) + ".*")
        else:
            assert isinstance(unit, PhraseUnit)
            q = tantivy.Query.phrase_query(self.schema, field, list(unit.terms))
            if unit.word:
                # The word implies its bigrams: OR-ing it changes scores, never matches.
                q = _should([q, self.term(field, unit.word)])
        return tantivy.Query.boost_query(q, TITLE_BOOST) if field == "title" else q

    def text(self, units: list[Unit], field: str | None) -> tantivy.Query | None:
        if not units:
            return None
        names = ("title", "body") if field is None else (field,)
        # Each unit may occur in either field; every unit must occur.
        return _must([_should([self.unit(u, name) for name in names]) for u in units])

    def compile(self, node: Node) -> tantivy.Query | None:
        if isinstance(node, MatchAll):
            return tantivy.Query.all_query()
        if isinstance(node, Word | Phrase):
            return self.leaf(node)
        if isinstance(node, Not):
            inner = self.compile(node.child)
            if inner is None:
                return tantivy.Query.all_query()
            return tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, tantivy.Query.all_query()),
                    (tantivy.Occur.MustNot, inner),
                ]
            )
        if isinstance(node, And):
            return self.conjunction(node)
        if isinstance(node, Or):
            parts = [q for q in map(self.compile, node.children) if q is not None]
            return _should(parts) if parts else None
        raise TypeError(f"unknown query node {node!r}")

    def leaf(self, node: Word | Phrase) -> tantivy.Query | None:
        if node.field == "class":
            return self.term("class_code", node.text)
        if node.field == "status":
            return self.term("status", node.text)
        if node.field == "archive":
            return _should(
                [self.term("archive_id", node.text), self.term("archive_number", node.text)]
            )
        units = query_units(node.text, phrase=isinstance(node, Phrase))
        return self.text(units, node.field)

    def conjunction(self, node: And) -> tantivy.Query | None:
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for child in node.children:
            if isinstance(child, Not):
                # A direct MustNot clause: no constant all-documents score mixed in.
                inner = self.compile(child.child)
                if inner is not None:
                    clauses.append((tantivy.Occur.MustNot, inner))
                continue
            q = self.compile(child)
            if q is None:
                if isinstance(child, Word | Phrase) and not query_units(child.text):
                    continue  # only punctuation/stopwords: ignore the word
                return None
            clauses.append((tantivy.Occur.Must, q))
        if not any(occur == tantivy.Occur.Must for occur, _q in clauses):
            if not clauses:
                return None
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        if len(clauses) == 1:
            return clauses[0][1]
        return tantivy.Query.boolean_query(clauses)

    def filters(self, req: SearchRequest) -> list[tantivy.Query]:
        """Permission and metadata filters, scored 0 so they do not change relevance.
        (Empty lists never get here: search() answers them with no results.)"""
        parts = [self.term_set("level", sorted(req.allowed_levels))]
        for field, values in (
            ("archive_id", req.archive_ids),
            ("class_code", req.class_codes),
            ("status", req.statuses),
        ):
            if values:
                parts.append(self.term_set(field, values))
        parts.extend(self.term("tags", tag) for tag in req.tags or ())
        if req.date_from is not None or req.date_to is not None:
            # From day 1: undated documents (day 0) never pass a date filter.
            low = _day(req.date_from) if req.date_from else 1
            parts.append(self.int_range("document_day", low, _day(req.date_to) or None))
        if req.amount_min is not None or req.amount_max is not None:
            parts.append(
                self.int_range(
                    "amount_cents",
                    _cents(req.amount_min) if req.amount_min is not None else None,
                    _cents(req.amount_max) if req.amount_max is not None else None,
                )
            )
        return [tantivy.Query.const_score_query(q, 0.0) for q in parts]

    def term_set(self, field: str, values: list[str]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self.schema, field, list(values))

    def int_range(self, field: str, low: int | None, high: int | None) -> tantivy.Query:
        return tantivy.Query.range_query(
            self.schema, field, tantivy.FieldType.Integer, low, high, use_inverted_index=True
        )
