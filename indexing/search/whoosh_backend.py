"""The embedded search backend: a Whoosh index in one directory.

What the index holds on disk (segment files ``*.seg``, ``_MAIN_*.toc``):

* per document: the doc id (the only stored field), columns for sorting/faceting/filtering
  (archive id, class code, document date as a day ordinal, amount in cents), and the
  indexed keywords archive id, archive number, class code, status, level;
* for ``title`` and ``body``: a term dictionary and postings with term positions. The
  terms are character bigrams, lone characters at the end of CJK runs, jieba words of 3+
  characters and stemmed Latin words (see ``analysis``). Nothing else: no stored text,
  no term vectors, no character offsets.

Honest trade-off: positions are what phrase queries need, and terms + positions are enough
to rebuild the normalised, stemmed token sequence of a body (punctuation lost). The index
must therefore be protected like the text itself (it lives in the instance folder); it is
not a way around the encryption of the text for someone who can read the folder.

Deleting marks documents deleted; their terms stay in the segment files until a merge.
:meth:`WhooshBackend.purge` rewrites every segment into one (``optimize``), after which the
terms and positions of deleted documents are physically gone from the index files (the old
files are removed; what the filesystem does with freed blocks is outside our reach).
"""

from __future__ import annotations

import contextlib
import os
import threading
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from whoosh import fields, formats, index, sorting
from whoosh import query as wq
from whoosh.analysis import RegexTokenizer
from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter
from whoosh.filedb.filestore import FileStorage
from whoosh.idsets import BitSet
from whoosh.index import LockError

from .analysis import PhraseUnit, PrefixUnit, TermUnit, Unit, index_terms, query_units
from .backend import Analyser, Hit, IndexDocument, SearchRequest, SearchResults, capped
from .errors import BackendError, IndexLocked
from .query import And, MatchAll, Node, Not, Or, Phrase, Word, parse_query

__all__ = ["WhooshBackend"]

NAME = "whoosh"
FILTER_CACHE_SIZE = 64


class CompactPositions(formats.Positions):
    """Positions as a count plus an array of 32-bit deltas (Whoosh pickles a list)."""

    def encode(self, poslist):
        deltas = array("I")
        base = 0
        for pos in poslist:
            deltas.append(pos - base)
            base = pos
        return len(deltas).to_bytes(4, "big") + deltas.tobytes()

    def decode_positions(self, valuestring):
        deltas = array("I")
        deltas.frombytes(valuestring[4:])
        out = []
        base = 0
        for d in deltas:
            base += d
            out.append(base)
        return out

    def decode_frequency(self, valuestring):
        return int.from_bytes(valuestring[:4], "big")


class AnalysedText(fields.TEXT):
    """A TEXT field indexed from our analyser's ``(term, position)`` pairs.

    ``index()`` accepts either a string (analysed here) or the pairs already computed
    (possibly in a worker process), so the text itself never reaches Whoosh.
    """

    def index(self, value, **kwargs):
        pairs = index_terms(value) if isinstance(value, str) else value
        poses: dict[str, list[int]] = defaultdict(list)
        for term, pos in pairs:
            poses[term].append(pos)
        encode = self.format.encode
        for term, poslist in poses.items():
            poslist.sort()
            yield term.encode("utf-8"), len(poslist), float(len(poslist)), encode(poslist)


def _schema() -> fields.Schema:
    # The analyzer given to Whoosh is never used for our fields' content (index() above
    # replaces it and queries are compiled from our own units); it only has to exist.
    placeholder = RegexTokenizer()
    return fields.Schema(
        doc_id=fields.ID(stored=True, unique=True),
        archive_id=fields.ID(sortable=True),
        archive_number=fields.ID(),
        class_code=fields.ID(sortable=True),
        status=fields.ID(),
        level=fields.ID(),
        document_date=fields.NUMERIC(int, bits=32, signed=True, sortable=True),
        amount=fields.NUMERIC(int, bits=64, signed=True, sortable=True),
        title=_text_field(placeholder, 2.0),
        body=_text_field(placeholder, 1.0),
        tags=_tags_field(),
    )


def _tags_field() -> fields.KEYWORD:
    # One term per tag, exactly as given (tags never contain a comma).
    return fields.KEYWORD(commas=True, lowercase=False, scorable=False)


def _text_field(analyzer, boost: float) -> AnalysedText:
    field = AnalysedText(analyzer=analyzer, phrase=True, field_boost=boost)
    field.format = CompactPositions(field_boost=boost)
    return field


class _InliningPostingsWriter(W3PostingsWriter):
    # Whoosh 2.7's inlining branch calls a misspelled method (set_inline); the reading
    # side (terminfo.is_inlined / inlined_postings) is complete.
    def finish_postings(self):
        terminfo = self._terminfo
        if not self.written() and len(self) < self._inlinelimit:
            terminfo.add_block(self)
            # Formats without per-posting values (ID fields) still need b"" per posting:
            # Whoosh's list matcher would otherwise return "" and break merges.
            values = self._values or [b""] * len(self._ids)
            terminfo.set_inlined(self._ids, self._weights, values)
            self._terminfo = None
            return terminfo
        return super().finish_postings()


class InliningCodec(W3Codec):
    """W3 codec that stores the postings of rare terms inside the term dictionary.

    Most CJK bigrams occur in a handful of documents; writing each one its own compressed
    posting block is where Whoosh spent most of its indexing time.
    """

    def postings_writer(self, dbfile, byteids=False):
        return _InliningPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )


def _codec() -> W3Codec:
    return InliningCodec(inlinelimit=8, compression=1)


def _cents(amount: Decimal) -> int:
    return int((Decimal(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _date_key(d: date) -> int:
    return d.toordinal()


class WhooshBackend:
    """Whoosh index in ``path`` (created if missing). Single writer, many readers."""

    name = NAME

    def __init__(
        self,
        path: str,
        *,
        limitmb: int = 64,
        analysis_workers: int = 1,
        lock_timeout: float = 30.0,
        commit_every: int = 5000,
        mmap: bool = True,
    ) -> None:
        if not path:
            raise BackendError(NAME, "no index directory given (whoosh:///path/to/dir)")
        self.path = os.path.abspath(path)
        self.limitmb = limitmb
        self.lock_timeout = lock_timeout
        self.commit_every = commit_every
        self._analyser = Analyser(analysis_workers)
        self._lock = threading.Lock()
        self._searcher = None
        self._filter_cache: dict[str, BitSet] = {}
        self._filter_cache_owner = None
        os.makedirs(self.path, exist_ok=True)
        try:
            # Writing reads segments without mmap: merging would otherwise map whole segment
            # files into the writer (2.3 GB of RSS while indexing 20k documents, against
            # 0.35 GB). Searching maps them (``mmap``, default on): faster queries (median
            # 57 ms against 180 ms at 20k documents, runs under different machine load);
            # those pages are the OS page cache, shared and reclaimable.
            storage = FileStorage(self.path, supports_mmap=False)
            if index.exists_in(self.path):
                self._ix = storage.open_index()
                if "tags" not in self._ix.schema:
                    self._add_tags_field()
            else:
                self._ix = storage.create_index(_schema())
            self._read_ix = FileStorage(self.path, supports_mmap=mmap).open_index()
        except (OSError, index.IndexError) as exc:
            raise BackendError(NAME, f"cannot open index at {self.path}: {exc}") from exc

    def _add_tags_field(self) -> None:
        """An index made before documents had tags gains the field (no document has one)."""
        writer = self._writer()
        writer.add_field("tags", _tags_field())
        writer.commit()
        self._ix = self._ix.refresh()

    # ------------------------------------------------------------------ writing

    def _writer(self):
        try:
            return self._ix.writer(limitmb=self.limitmb, timeout=self.lock_timeout, codec=_codec())
        except LockError as exc:
            raise IndexLocked(NAME, self.path, self.lock_timeout) from exc

    def add(self, docs: Iterable[IndexDocument]) -> int:
        written = 0
        writer = self._writer()
        # Looks up already indexed versions in the committed segments, once per document:
        # cheaper than update_document(), which opens a searcher for every call.
        existing = writer.searcher()
        seen: set[str] = set()
        try:
            for ad in self._analyser.map(docs):
                d = ad.doc
                if d.doc_id in seen or len(seen) >= self.commit_every:
                    # A writer cannot replace a document it buffered itself: commit first.
                    existing.close()
                    writer.commit()
                    writer = self._writer()
                    existing = writer.searcher()
                    seen.clear()
                seen.add(d.doc_id)
                values = {
                    "doc_id": d.doc_id,
                    "archive_id": d.archive_id,
                    "archive_number": d.archive_number,
                    "class_code": d.class_code,
                    "status": d.status,
                    "level": d.level,
                    "title": ad.title_terms,
                    "body": ad.body_terms,
                }
                if d.tags:
                    values["tags"] = ",".join(d.tags)
                # Undated documents get day 0 (no real date has it), so they sort as the
                # oldest; date filters start at day 1 and never match them.
                values["document_date"] = (
                    _date_key(d.document_date) if d.document_date is not None else 0
                )
                if d.amount is not None:
                    values["amount"] = _cents(d.amount)
                for docnum in existing.document_numbers(doc_id=d.doc_id):
                    writer.delete_document(docnum)
                writer.add_document(**values)
                written += 1
        except BaseException:
            existing.close()
            writer.cancel()
            raise
        existing.close()
        writer.commit()
        return written

    def delete(self, doc_ids: Iterable[str]) -> int:
        n = 0
        writer = self._writer()
        existing = writer.searcher()  # one searcher, not one per id (delete_by_term)
        try:
            for doc_id in doc_ids:
                for docnum in existing.document_numbers(doc_id=doc_id):
                    writer.delete_document(docnum)
                n += 1
        except BaseException:
            existing.close()
            writer.cancel()
            raise
        existing.close()
        writer.commit()
        return n

    def purge(self) -> None:
        writer = self._writer()
        writer.commit(optimize=True)
        self._drop_searcher()

    def bulk_load(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to defer: every add() already writes its batch as one segment."""
        return contextlib.nullcontext()

    def clear(self) -> None:
        writer = self._writer()
        writer.commit(mergetype=_clear_all)
        self._drop_searcher()

    def optimize(self) -> None:
        self.purge()

    # ------------------------------------------------------------------ reading

    def count(self) -> int:
        return self._ix.doc_count()

    def doc_ids(self) -> Iterator[str]:
        with self._read_ix.searcher() as s:
            ids = [stored["doc_id"] for _docnum, stored in s.reader().iter_docs()]
        return iter(ids)

    def _drop_searcher(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    def search(self, request: SearchRequest) -> SearchResults:
        request.validate()
        if not request.allowed_levels or any(
            f is not None and not f
            for f in (request.archive_ids, request.class_codes, request.statuses)
        ):
            return SearchResults.nothing(request)
        compiled = _compile(parse_query(request.query))
        if compiled is None:
            return SearchResults.nothing(request)
        filt = _filters(request)
        kwargs: dict = {"limit": request.page * request.per_page}
        if request.sort != "relevance":
            kwargs["sortedby"] = sorting.FieldFacet(
                "document_date", reverse=request.sort == "-date"
            )
            kwargs["scored"] = False
        if request.facets:
            kwargs["groupedby"] = {
                "class": sorting.FieldFacet("class_code", maptype=sorting.Count),
                "archive": sorting.FieldFacet("archive_id", maptype=sorting.Count),
            }
        with self._lock:
            if self._searcher is None:
                self._searcher = self._read_ix.searcher()
            else:
                self._searcher = self._searcher.refresh()
            searcher = self._searcher
            allowed = self._filter_set(searcher, filt)
            if not allowed:
                # Whoosh treats an empty filter set as "no filter" and would return every
                # document: no document passes the filters, so nothing matches.
                return SearchResults.nothing(request)
            kwargs["filter"] = allowed
            results = searcher.search(compiled, **kwargs)
            total = len(results)
            start = (request.page - 1) * request.per_page
            hits = []
            for i in range(start, min(start + request.per_page, results.scored_length())):
                stored = searcher.stored_fields(results.docnum(i))
                score = results.score(i) if request.sort == "relevance" else 0.0
                hits.append(Hit(stored["doc_id"], float(score or 0.0)))
            facets = {}
            if request.facets:
                facets = {
                    "class": {_text(k): v for k, v in results.groups("class").items()},
                    "archive": {_text(k): v for k, v in results.groups("archive").items()},
                }
        total, exact, facets = capped(total, facets, request.total_cap)
        return SearchResults(total, hits, facets, total_exact=exact)

    def _filter_set(self, searcher, filt: wq.Query) -> BitSet:
        """The documents a filter allows, cached per searcher (the permission filter is the
        same for most requests and costs a pass over most of the index to compute)."""
        if self._filter_cache_owner is not searcher:
            self._filter_cache.clear()
            self._filter_cache_owner = searcher
        key = repr(filt)
        cached = self._filter_cache.pop(key, None)
        if cached is None:
            cached = BitSet(searcher.docs_for_query(filt), size=searcher.doc_count_all())
        self._filter_cache[key] = cached  # most recently used last
        while len(self._filter_cache) > FILTER_CACHE_SIZE:
            self._filter_cache.pop(next(iter(self._filter_cache)))
        return cached

    def close(self) -> None:
        self._drop_searcher()
        self._analyser.close()
        self._ix.close()
        self._read_ix.close()

    def __enter__(self) -> WhooshBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _clear_all(writer, segments):
    return []


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


# ---------------------------------------------------------------------- compile


def _filters(req: SearchRequest) -> wq.Query:
    parts: list[wq.Query] = [wq.Or([wq.Term("level", lv) for lv in sorted(req.allowed_levels)])]
    # (Empty lists never get here: search() answers them with no results.)
    for fieldname, values in (
        ("archive_id", req.archive_ids),
        ("class_code", req.class_codes),
        ("status", req.statuses),
    ):
        if values:
            parts.append(wq.Or([wq.Term(fieldname, v) for v in values]))
    parts.extend(wq.Term("tags", tag) for tag in req.tags or ())
    if req.date_from is not None or req.date_to is not None:
        parts.append(
            wq.NumericRange(
                "document_date",
                _date_key(req.date_from) if req.date_from else 1,
                _date_key(req.date_to) if req.date_to else None,
            )
        )
    if req.amount_min is not None or req.amount_max is not None:
        parts.append(
            wq.NumericRange(
                "amount",
                _cents(req.amount_min) if req.amount_min is not None else None,
                _cents(req.amount_max) if req.amount_max is not None else None,
            )
        )
    return wq.And(parts) if len(parts) > 1 else parts[0]


def _unit_query(unit: Unit, fieldname: str) -> wq.Query:
    if isinstance(unit, TermUnit):
        return wq.Term(fieldname, unit.term)
    if isinstance(unit, PrefixUnit):
        return wq.Prefix(fieldname, unit.prefix)
    assert isinstance(unit, PhraseUnit)
    phrase = wq.Phrase(fieldname, list(unit.terms))
    if unit.word:
        return wq.Or([phrase, wq.Term(fieldname, unit.word)])
    return phrase


def _text_query(units: list[Unit], field: str | None) -> wq.Query | None:
    if not units:
        return None
    names = ("title", "body") if field is None else (field,)
    per_unit = []
    for unit in units:
        qs = [_unit_query(unit, name) for name in names]
        per_unit.append(qs[0] if len(qs) == 1 else wq.Or(qs))
    return per_unit[0] if len(per_unit) == 1 else wq.And(per_unit)


def _compile(node: Node) -> wq.Query | None:
    """Whoosh query for an AST node; None means "matches nothing"."""
    if isinstance(node, MatchAll):
        return wq.Every()
    if isinstance(node, Word | Phrase):
        if node.field == "class":
            return wq.Term("class_code", node.text)
        if node.field == "status":
            return wq.Term("status", node.text)
        if node.field == "archive":
            return wq.Or([wq.Term("archive_id", node.text), wq.Term("archive_number", node.text)])
        units = query_units(node.text, phrase=isinstance(node, Phrase))
        return _text_query(units, node.field)
    if isinstance(node, Not):
        inner = _compile(node.child)
        return wq.Not(inner) if inner is not None else wq.Every()
    if isinstance(node, And):
        parts = []
        for child in node.children:
            q = _compile(child)
            if q is None:
                if isinstance(child, Word | Phrase) and not query_units(child.text):
                    continue  # only punctuation/stopwords: ignore the word
                return None
            parts.append(q)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.And(parts)
    if isinstance(node, Or):
        parts = [q for q in (_compile(c) for c in node.children) if q is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.Or(parts)
    raise TypeError(f"unknown query node {node!r}")
