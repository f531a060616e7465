"""The shared search backend: PostgreSQL full-text search over our own analyser's tokens.

The text is analysed in Python (the same bigrams + jieba words + stemmed Latin words as the
Whoosh backend, see ``analysis``) and stored as a ``tsvector`` literal with positions;
PostgreSQL never sees the text and never runs a text-search parser or dictionary on it
(terms are written and queried as already-normalised lexemes, with the ``::tsquery`` /
``::tsvector`` casts, not ``to_tsvector``). Title terms carry weight A, body terms the
default weight D, so ``title:`` queries are ``'term':A``.

Single CJK characters. Besides the analyser's terms, each CJK character of a document is
stored once as the term ``#`` + character, at its first title position (weight A) and its
first body position, and a one-character query is that one term. The analyser's own terms
find a character only as the first half of a bigram or a run's last character, so the query
was a prefix scan (``'的':*``) over every bigram that starts with it: hundreds of posting
lists for a common character (的: 279 ms at 100,000 documents), where one list is enough.
Tables written before these terms lack them: the table's comment records the format
(``TABLE_FORMAT``); without it single characters are still searched by prefix (right, slow)
and opening the backend logs that a complete ``archive reindex --restart`` upgrades the
table (the comment is written when the table is empty, cleared, or fully rewritten by one
bulk load).

The backend creates its own table (the application's migrations do not manage it)::

    CREATE TABLE IF NOT EXISTS search_documents (
        doc_id         text PRIMARY KEY,
        archive_id     text NOT NULL,
        archive_number text NOT NULL,
        class_code     text NOT NULL,
        status         text NOT NULL,
        level          text NOT NULL,
        document_date  date,
        amount         numeric(20, 2),
        tsv            tsvector NOT NULL,
        tags           text[] NOT NULL DEFAULT '{}'   -- added to older tables on open
    );
    CREATE INDEX search_documents_tsv_idx ON search_documents
        USING rum (tsv rum_tsvector_ops);          -- or USING gin (tsv), see below
    CREATE INDEX search_documents_newest_idx ON search_documents
        (document_date DESC NULLS LAST, doc_id);   -- added to older tables on open
    -- btree indexes on archive_id, archive_number, document_date, amount. None on the
    -- low-cardinality class_code, status and level: those filters are applied to the rows
    -- the text index finds (see _ensure_schema for why an index there is harmful), nor on
    -- tags (``tags @> ARRAY[...]``), filtered the same way.

The text index. With ``text_index="auto"`` (the default) it is a RUM index when the server
has the ``rum`` extension (created on first use if the role may), else GIN; ``"rum"``
insists (a ``BackendError`` names what is missing), ``"gin"`` never tries. GIN maps lexemes
to rows only, so phrases, ``title:`` (weights) and ranking must read each candidate's
tsvector from the table (about 13 KB out of line per document, ~40 us each): a phrase
matching 17,000 of 100,000 documents took over a second, and ranking is limited to the
newest ``rank_window`` matches. RUM keeps positions in the index: phrases and weights are
checked there and ranking is an ordered index scan over every match (``<=>``). An existing
index keeps its method; an empty table's bulk load builds the preferred one.

Counting. Totals and facets are counted over at most ``total_cap + 1`` matches, listed by
a bitmap scan of the text index (a plain RUM index scan gathers and sorts every match
before returning the first, with ``LIMIT`` or not).

Ranking that stops early (RUM). RUM's ordered scan scores every match before it returns the
first (62 ms for a term in 98,500 of 100,000 documents), and it scores every match of the
words before any filter applies; so it is used only when the count is exact (at most
``total_cap`` matches) and the request filters on nothing but the levels. With filters, an
exact count is ranked as with GIN: ``ts_rank_cd`` over every match up to ``rank_window``,
else over the newest ``broad_rank_window``, whose ids the count statement returns with the
totals (no second scan). A relevance search with more matches than the cap
ranks only the newest ``broad_rank_window`` (100) matches, by document date then id, with
``ts_rank_cd``, and continues by date after them, as the GIN index does past
``rank_window``; the results say so (``ranked_window``). Such a query's words are in more
than ``total_cap`` documents, so relevance among all of them says little and the newest
are what the window keeps. The newest matches are found without listing all of them:

* by walking ``newest_idx`` (newest first) and checking each row's words, which reads
  that row's tsvector: ``broad_rank_window`` rows divided by the share of rows that match,
  so on average at most ``rows / total_cap`` times the window (ten times at 100,000
  documents and the default cap; a hundred times at 1,000,000), more when the matches
  are mostly old documents;
* for a query with a phrase of ``LONG_PHRASE_TERMS`` or more terms (not under a NOT), in
  two steps: the candidates are the documents holding the phrase's ``CANDIDATE_TERMS``
  rarest terms (from the index, without positions; which terms are rarest comes from the
  planner's statistics of the column), sorted newest first, and the query itself is
  checked on them in that order until the window is full. Checking a phrase in the index
  reads all of its terms' posting lists with positions (9 bigrams: 75 ms at 100,000
  documents against 16 ms for the 2 rarest); on a candidate, it reads one tsvector.

Bulk load (``bulk_load``, used by ``reindex``): into an empty table the rows are written
without the text index, which is then built once (see the method).

What is stored: metadata columns and the tsvector (lexemes with positions). No text. Honest
note: like Whoosh postings, a tsvector with positions allows rebuilding the normalised token
sequence of a body, so the table must be protected like the text itself.

Limits inherited from ``tsvector``: positions above 16383 are clamped to 16383 and at most
256 positions are kept per lexeme, so in very long documents a term is still found but a
phrase beyond roughly the first 16,000 characters may not be (a known PostgreSQL limit).

Deleting is a real ``DELETE``; :meth:`PostgresBackend.purge` runs ``VACUUM FULL`` on the
table, which rewrites the table, its TOAST table and its indexes into new files and removes
the old ones, so deleted rows' bytes are gone from the live data files. ``VACUUM FULL``
keeps rows that an open transaction anywhere in the cluster might still see, so purge waits
for older transactions, checks the dead-row count afterwards, and raises ``PurgeIncomplete``
if rows were still kept when the wait ran out. Copies in WAL
segments, replicas and backups age out on their own schedule.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, TSVECTOR
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.util import ClauseAdapter

from .analysis import (
    PhraseUnit,
    PrefixUnit,
    TermUnit,
    Unit,
    first_char_positions,
    query_units,
)
from .backend import (
    AnalysedDocument,
    Analyser,
    Hit,
    IndexDocument,
    SearchRequest,
    SearchResults,
    capped,
    empty_facets,
)
from .background_writer import BackgroundWriter
from .errors import BackendError, PurgeIncomplete
from .query import And, MatchAll, Node, Not, Or, Phrase, Word, parse_query

__all__ = ["PostgresBackend"]

log = logging.getLogger(__name__)

NAME = "postgresql"
MAX_POSITION = 16383
MAX_POSITIONS_PER_LEXEME = 256
ANALYZE_AFTER = 1000  # rows written by one add() call
# Server memory for building the text index (bulk_load, or a missing index on open). The
# PostgreSQL manual: GIN build time "is very sensitive to the maintenance_work_mem setting";
# the server default is 64 MB. Used only for the duration of the build.
BUILD_MEMORY = "256MB"
# Relevance ranking reads every candidate's tsvector; past this many matches only the newest
# this many are ranked (the rest follow by date) and the results say so (ranked_window).
RANK_WINDOW = 1000
# With RUM, a relevance search matching more documents than the count's cap ranks only the
# newest this many (see PostgresBackend.search): RUM's ordered scan scores every match.
BROAD_RANK_WINDOW = 100
TEXT_INDEX_CHOICES = ("auto", "rum", "gin")
# A phrase of this many terms or more is, for a ranking window, first looked up by its
# CANDIDATE_TERMS rarest terms (no positions) and checked as a phrase on those candidates.
LONG_PHRASE_TERMS = 3
CANDIDATE_TERMS = 2
RANK_SORT_MEMORY = "32MB"  # per ranking query, RUM only (see _hits_by_distance)
# "The document contains this CJK character": the character after a mark that no analysed
# term contains (terms are letters, digits and CJK characters only).
CHAR_MARK = "#"
# Written as the table's comment once every row holds those character terms (see
# _mark_format); a table without it answers single characters by a prefix scan instead.
TABLE_FORMAT = "archive search table, format 2 (character terms)"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,50}$")


def tsvector_literal(title_terms: list[tuple[str, int]], body_terms: list[tuple[str, int]]) -> str:
    """The tsvector text for a document: title positions first (weight A), then the body.

    Built once per document for about a thousand terms, so it avoids per-position work:
    positions are grouped per term in one pass and written with one ``join`` per term.
    """
    title = _grouped_positions(title_terms, 1)
    title_len = max((ps[-1] for ps in title.values()), default=0)
    # One empty position between title and body, so no phrase spans the two.
    body = _grouped_positions(body_terms, title_len + 2)
    parts = []
    for term, ps in title.items():
        entries = ",".join([f"{p}A" for p in ps])
        extra = body.pop(term, None)
        room = MAX_POSITIONS_PER_LEXEME - len(ps)
        if extra and room > 0:
            # Body positions follow the title's; they can only meet it at the clamp.
            rest = [p for p in extra[:room] if p != ps[-1]]
            if rest:
                entries += "," + ",".join(map(str, rest))
        parts.append(f"{_lexeme(term)}:{entries}")
    for term, ps in body.items():
        parts.append(f"{_lexeme(term)}:{','.join(map(str, ps))}")
    # Each CJK character once: its first title position (A) and its first body position.
    title_chars = first_char_positions(title_terms)
    body_chars = first_char_positions(body_terms)
    for char, pos in title_chars.items():
        entries = f"{min(pos + 1, MAX_POSITION)}A"
        if char in body_chars:
            entries += f",{min(body_chars.pop(char) + title_len + 2, MAX_POSITION)}"
        parts.append(f"{_lexeme(CHAR_MARK + char)}:{entries}")
    for char, pos in body_chars.items():
        parts.append(f"{_lexeme(CHAR_MARK + char)}:{min(pos + title_len + 2, MAX_POSITION)}")
    return " ".join(parts)


def _grouped_positions(terms: list[tuple[str, int]], offset: int) -> dict[str, list[int]]:
    """Positions (``pos + offset``) per term, within tsvector's limits.

    ``index_terms`` emits each term's positions in increasing order and never the same
    (term, position) twice, so only clamping at ``MAX_POSITION`` can make duplicates, and
    only in the tail of a list.
    """
    grouped: dict[str, list[int]] = {}
    for term, pos in terms:
        kept = grouped.get(term)
        if kept is None:
            grouped[term] = [pos + offset]
        else:
            kept.append(pos + offset)
    for term, ps in grouped.items():
        if ps[-1] > MAX_POSITION:
            ps = sorted({min(p, MAX_POSITION) for p in ps})
            grouped[term] = ps
        if len(ps) > MAX_POSITIONS_PER_LEXEME:
            grouped[term] = ps[:MAX_POSITIONS_PER_LEXEME]
    return grouped


def _lexeme(term: str) -> str:
    if "'" in term or "\\" in term:
        return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
    return f"'{term}'"


def _row(ad: AnalysedDocument) -> dict[str, Any]:
    """The table row of an analysed document (built in the analysis worker)."""
    d = ad.doc
    return {
        "doc_id": d.doc_id,
        "archive_id": d.archive_id,
        "archive_number": d.archive_number,
        "class_code": d.class_code,
        "status": d.status,
        "level": d.level,
        "document_date": d.document_date,
        "amount": d.amount,
        "tsv": tsvector_literal(ad.title_terms, ad.body_terms),
        "tags": list(d.tags),
    }


class PostgresBackend:
    """Search table in PostgreSQL, through SQLAlchemy Core and psycopg 3."""

    name = NAME

    def __init__(
        self,
        url: str | None = None,
        *,
        engine: sa.Engine | None = None,
        table: str = "search_documents",
        analysis_workers: int = 1,
        batch_size: int = 500,
        rank_window: int = RANK_WINDOW,
        broad_rank_window: int = BROAD_RANK_WINDOW,
        text_index: str = "auto",
    ) -> None:
        if not _IDENT.match(table):
            raise BackendError(NAME, f"invalid table name {table!r}")
        if text_index not in TEXT_INDEX_CHOICES:
            raise BackendError(NAME, f"text_index must be one of {', '.join(TEXT_INDEX_CHOICES)}")
        self._text_index_choice = text_index
        self.text_index_method = "gin"  # what the table's index is; set by _ensure_schema
        if engine is None:
            if not url:
                raise BackendError(NAME, "need a database URL or an Engine")
            url = re.sub(r"^(postgres|postgresql)://", "postgresql+psycopg://", url)
            engine = sa.create_engine(url, pool_pre_ping=True)
            self._own_engine = True
        else:
            self._own_engine = False
        self.engine = engine
        self.table_name = table
        self.batch_size = batch_size
        self.rank_window = rank_window
        self.broad_rank_window = broad_rank_window
        self._written_since_analyze = 0
        self._rows_at_analyze = 0
        self._written_in_bulk: int | None = None  # rows add() wrote inside bulk_load
        self._rarity: dict[str, float] | None = None  # lexeme frequencies, see _lexeme_rarity
        self.char_terms = False  # every row has character terms; set by _ensure_schema
        self._analyser = Analyser(analysis_workers, finish=_row)
        md = sa.MetaData()
        self.t = sa.Table(
            table,
            md,
            sa.Column("doc_id", sa.Text, primary_key=True),
            sa.Column("archive_id", sa.Text, nullable=False, index=True),
            sa.Column("archive_number", sa.Text, nullable=False, index=True),
            sa.Column("class_code", sa.Text, nullable=False),
            sa.Column("status", sa.Text, nullable=False),
            sa.Column("level", sa.Text, nullable=False),
            sa.Column("document_date", sa.Date, index=True),
            sa.Column("amount", sa.Numeric(20, 2), index=True),
            sa.Column("tsv", TSVECTOR, nullable=False),
            sa.Column("tags", ARRAY(sa.Text), nullable=False, server_default="{}"),
        )
        self._md = md
        self._text_index_name = f"{table}_tsv_idx"
        self._columns = [col.name for col in self.t.columns]
        self._ensure_schema()

    def _ensure_schema(self) -> None:
        try:
            with self.engine.begin() as conn:
                # Serialise concurrent creators: CREATE ... IF NOT EXISTS is not race-free.
                self._lock_schema(conn)
                self._md.create_all(conn, checkfirst=True)
                # Tables made before documents had tags gain the column.
                conn.execute(
                    sa.text(
                        f'ALTER TABLE "{self.table_name}" '
                        "ADD COLUMN IF NOT EXISTS tags text[] NOT NULL DEFAULT '{}'"
                    )
                )
                # An existing text index keeps its method (switching means rebuilding it:
                # clear and reindex); a missing one (new table, or a bulk load interrupted
                # before it rebuilt the index) is built with the preferred method.
                self.text_index_method = self._current_method(conn) or self._preferred_method(conn)
                self._ensure_text_index(conn)
                # The newest matches of a broad query, in the order of _hits_by_date's "-date".
                conn.execute(
                    sa.text(
                        f'CREATE INDEX IF NOT EXISTS "{self.table_name}_newest_idx"'
                        f' ON "{self.table_name}" (document_date DESC NULLS LAST, doc_id)'
                    )
                )
                # Earlier versions indexed these low-cardinality columns. With such an index
                # the planner filters by it and rechecks the (TOASTed, uncosted) tsvector of
                # most rows instead of using the GIN index: 0.1 ms became 1 s.
                for col in ("class_code", "status", "level"):
                    conn.execute(sa.text(f'DROP INDEX IF EXISTS "ix_{self.table_name}_{col}"'))
                if self._is_empty(conn):
                    self._mark_format(conn)
                self.char_terms = self._table_format(conn) == TABLE_FORMAT
        except sa.exc.OperationalError as exc:
            raise BackendError(NAME, f"cannot reach the database: {exc.orig}") from exc
        if not self.char_terms:
            log.warning(
                "search table %s was built before single CJK characters were indexed as terms;"
                " a single-character search scans every bigram starting with it (slow on large"
                " tables) until `archive reindex --restart` has rewritten every row",
                self.table_name,
            )

    def _is_empty(self, conn: sa.Connection) -> bool:
        return conn.execute(sa.select(sa.true()).select_from(self.t).limit(1)).first() is None

    def _table_format(self, conn: sa.Connection) -> str | None:
        return conn.execute(
            sa.text("SELECT obj_description(CAST(:t AS regclass), 'pg_class')"),
            {"t": self.table_name},
        ).scalar()

    def _mark_format(self, conn: sa.Connection) -> None:
        """Record that every row holds character terms (an empty table, or every row just
        rewritten): single characters are then searched as terms from the next open on."""
        conn.execute(sa.text(f"COMMENT ON TABLE \"{self.table_name}\" IS '{TABLE_FORMAT}'"))
        self.char_terms = True

    # ------------------------------------------------------------------ writing

    def add(self, docs: Iterable[IndexDocument]) -> int:
        t = self.t
        stmt = pg_insert(t).values(
            {c: sa.bindparam(c) for c in self._columns if c != "tsv"}
            | {"tsv": sa.cast(sa.bindparam("tsv", type_=sa.Text), TSVECTOR)}
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.doc_id],
            set_={c: stmt.excluded[c] for c in self._columns if c != "doc_id"},
        )
        written = 0
        batch: dict[str, dict[str, Any]] = {}

        def write(rows: list[dict[str, Any]]) -> None:
            with self.engine.begin() as conn:
                conn.execute(stmt, rows)

        # Batches commit one by one on a writer thread while the next ones are analysed.
        with BackgroundWriter(write) as writer:
            for row in self._analyser.map(docs):
                batch[row["doc_id"]] = row  # a repeated id in one batch: last wins
                written += 1
                if len(batch) >= self.batch_size:
                    writer.submit(list(batch.values()))
                    batch = {}
            if batch:
                writer.submit(list(batch.values()))
        self._written_since_analyze += written
        if self._written_in_bulk is not None:
            self._written_in_bulk += written
        if self._written_since_analyze >= max(ANALYZE_AFTER, self._rows_at_analyze // 4):
            # After a bulk load the planner's statistics are stale: it then prefers the btree
            # filters and rechecks the tsvector of every row instead of using the GIN index.
            # Growing the threshold with the table keeps a long reindex (many add() calls)
            # from vacuuming the whole table after every batch.
            self.analyze()
        return written

    @contextlib.contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Load an empty table without its text index and build the index once at the end.

        Keeping a GIN index up to date row by row costs more the larger it grows (indexing
        slowed from 120 to 70 documents/s over 100,000 rows); one build over the loaded
        table sorts all entries at once. Only when the table starts empty, or when an
        earlier bulk load was interrupted and left the index missing: reindexing a filled
        table keeps its index, since searches must stay fast meanwhile. Searches during the
        block read the table without the index: correct, slow. The index is built when the
        block ends, however it ends, and by any backend opened on the table before that.
        """
        deferred = self._defer_text_index()
        self._written_in_bulk = 0
        try:
            yield
            if not self.char_terms:
                # A complete reindex rewrote every row (upserts): they now all hold
                # character terms. A resumed one did not, and leaves the format as it was.
                with self.engine.begin() as conn:
                    self._lock_schema(conn)
                    rows = conn.execute(sa.select(sa.func.count()).select_from(self.t))
                    if self._written_in_bulk >= rows.scalar_one():
                        self._mark_format(conn)
        finally:
            self._written_in_bulk = None
            if deferred:
                self._ensure_text_index()
                self.analyze()

    def _lock_schema(self, conn: sa.Connection) -> None:
        """Serialise schema changes to this table until ``conn``'s transaction ends."""
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": self.table_name})

    def _defer_text_index(self) -> bool:
        with self.engine.begin() as conn:
            self._lock_schema(conn)
            if self._is_empty(conn):
                self._mark_format(conn)
                conn.execute(sa.text(f'DROP INDEX IF EXISTS "{self._text_index_name}"'))
                self.text_index_method = self._preferred_method(conn)
                return True
            return self._current_method(conn) is None

    def _ensure_text_index(self, conn: sa.Connection | None = None) -> None:
        """Build the text index if it is missing (``conn``: a transaction holding the lock)."""
        if conn is None:
            with self.engine.begin() as conn:
                self._lock_schema(conn)
                self._ensure_text_index(conn)
            return
        if self._current_method(conn) is not None:
            return
        using = "rum (tsv rum_tsvector_ops)" if self.text_index_method == "rum" else "gin (tsv)"
        conn.execute(sa.text(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'"))
        conn.execute(
            sa.text(f'CREATE INDEX "{self._text_index_name}" ON "{self.table_name}" USING {using}')
        )

    def _current_method(self, conn: sa.Connection) -> str | None:
        """The access method of the table's text index, or None when there is none."""
        return conn.execute(
            sa.text(
                "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam"
                " WHERE c.oid = to_regclass(:i)"
            ),
            {"i": self._text_index_name},
        ).scalar()

    def _preferred_method(self, conn: sa.Connection) -> str:
        """RUM when asked for or (``auto``) when the server can provide it, else GIN."""
        if self._text_index_choice == "gin":
            return "gin"
        if conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'rum'")).scalar():
            return "rum"
        problem = "the rum extension is not available on the database server"
        if conn.execute(
            sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
        ).scalar():
            try:
                with conn.begin_nested():
                    conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS rum"))
                return "rum"
            except sa.exc.DBAPIError as exc:
                problem = f"cannot create the rum extension: {exc.orig}"
        if self._text_index_choice == "rum":
            raise BackendError(NAME, problem)
        return "gin"

    def analyze(self) -> None:
        """Refresh planner statistics and flush the GIN pending list (after bulk loads)."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'VACUUM (ANALYZE) "{self.table_name}"'))
            rows = conn.execute(
                sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                {"t": self.table_name},
            ).scalar_one()
        self._rows_at_analyze = max(0, int(rows))
        self._written_since_analyze = 0
        self._rarity = None

    def delete(self, doc_ids: Iterable[str]) -> int:
        ids = list(doc_ids)
        with self.engine.begin() as conn:
            for i in range(0, len(ids), 1000):
                conn.execute(sa.delete(self.t).where(self.t.c.doc_id.in_(ids[i : i + 1000])))
        return len(ids)

    def purge(self, wait_timeout: float = 60.0) -> None:
        """Make deleted rows physically gone: wait for older transactions, then VACUUM FULL.

        ``VACUUM FULL`` copies every row that some open transaction might still see, deleted
        or not, into the new files. Which transactions count is wider than this database:
        a ``CREATE DATABASE`` running anywhere in the cluster holds the horizon back too. So
        wait (up to ``wait_timeout`` seconds) until no session in the cluster holds a
        snapshot or transaction id older than now, vacuum, and check the table's dead-row
        count; repeat while rows were kept and time remains, else raise
        :class:`PurgeIncomplete` naming the sessions that held them.
        """
        started = time.monotonic()
        blocking: list[int] = []
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while True:
                now = conn.execute(sa.text("SELECT pg_current_xact_id()::xid::text")).scalar_one()
                while True:
                    blocking = self._older_sessions(conn, now)
                    if not blocking or time.monotonic() - started > wait_timeout:
                        break
                    time.sleep(0.2)
                conn.execute(sa.text(f'VACUUM (FULL, ANALYZE) "{self.table_name}"'))
                dead = conn.execute(
                    sa.text("SELECT pg_stat_get_dead_tuples(CAST(:t AS regclass))"),
                    {"t": self.table_name},
                ).scalar_one()
                if not dead:
                    return
                if time.monotonic() - started > wait_timeout:
                    break
        raise PurgeIncomplete(NAME, blocking, time.monotonic() - started)

    @staticmethod
    def _older_sessions(conn: sa.Connection, xid: str) -> list[int]:
        return list(
            conn.execute(
                sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                    " AND ((backend_xmin IS NOT NULL"
                    "       AND age(backend_xmin) >= age(CAST(:xid AS xid)))"
                    "   OR (backend_xid IS NOT NULL"
                    "       AND age(backend_xid) >= age(CAST(:xid AS xid))))"
                ),
                {"xid": xid},
            ).scalars()
        )

    def clear(self) -> None:
        with self.engine.begin() as conn:
            self._lock_schema(conn)
            conn.execute(sa.text(f'TRUNCATE "{self.table_name}"'))
            self._mark_format(conn)

    def drop(self) -> None:
        """Remove the table and its indexes (tests, uninstall)."""
        with self.engine.begin() as conn:
            self._md.drop_all(conn, checkfirst=True)

    # ------------------------------------------------------------------ reading

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(self.t)).scalar_one()

    def doc_ids(self) -> Iterator[str]:
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=5000).execute(
                sa.select(self.t.c.doc_id).order_by(self.t.c.doc_id)
            )
            for (doc_id,) in result:
                yield doc_id

    def search(self, request: SearchRequest) -> SearchResults:
        request.validate()
        empty = SearchResults.nothing(request)
        if not request.allowed_levels:
            return empty
        compiler = _Compiler(self.t, char_terms=self.char_terms)
        compiled = compiler.compile(parse_query(request.query))
        if compiled is None:
            return empty
        rank_q = compiler.rank_query()
        filters = self._filters(request, words_first=rank_q is not None)
        cond = sa.and_(compiler.to_sql(compiled), *filters)
        with self.engine.connect() as conn:
            # A term in most documents makes a sequential scan look cheapest to the planner,
            # which does not cost reading each row's out-of-line tsvector (about 13 KB, seven
            # TOAST chunks): 0.9 s for 23,000 rows, against 30 ms through the GIN bitmap,
            # which needs no tsvector at all for plain terms.
            # Turning that off makes any plan with a sequential scan look very expensive,
            # which crosses the JIT threshold (compiling took 98 ms of a 141 ms browse
            # query): JIT goes off too. Both for this transaction, in one round trip.
            # The count lists matches through bitmaps: a plain RUM index scan collects and
            # sorts every match before returning the first (公司: 100-150 ms, spilling to
            # disk), its bitmap scan only lists them (40 ms).
            _settings(conn, enable_seqscan=False, jit=False, enable_indexscan=False)
            rum = self.text_index_method == "rum"
            ranked = request.sort == "relevance" and rank_q is not None
            # RUM's ordered scan scores every match of the words before any filter applies
            # (the class, status or amount filters of 5,000 hits: 64-254 ms); with such
            # filters RUM ranks as GIN does, by ts_rank_cd over the rows that pass them.
            by_distance = rum and not (_narrowed(request) or compiled[0] == "sql")
            window = (self.broad_rank_window if rum else self.rank_window) if ranked else None
            # An exact count's newest window of matches comes with it (ranked from there).
            total, facets, newest = self._count(
                conn, cond, request.facets, request.total_cap, None if by_distance else window
            )
            total, exact, facets = capped(total, facets, request.total_cap)
            start = (request.page - 1) * request.per_page
            end = start + request.per_page
            ranked_window = None
            candidates = None
            if ranked and not exact:
                loose = _Compiler(
                    self.t, char_terms=self.char_terms, rarity=self._lexeme_rarity(conn)
                )
                loosened = loose.compile(parse_query(request.query))
                if loose.loosened and loosened is not None:
                    candidates = sa.and_(loose.to_sql(loosened), *filters)
            if ranked and (candidates is not None or (exact and not by_distance)):
                pass  # by bitmap: a window's candidates, or exact matches to rank
            elif rank_q is not None and not exact and rum:
                # The words are in more than total_cap documents: the newest come first by
                # walking the date index and checking each row's words (at 100,000 rows and
                # the default cap, ten rows read per row kept on average), instead of listing
                # every match from the RUM index (40 ms for 100,000) to sort them. GIN lists
                # matches about ten times faster and keeps doing so.
                _settings(conn, enable_indexscan=True, enable_bitmapscan=False)
            else:  # date orders (the date index), RUM's distance order (its ordered scan)
                _settings(conn, enable_indexscan=True)
            if not ranked:
                hits = self._hits_by_date(conn, cond, request.sort, start, end)
            elif exact and by_distance:
                hits = self._hits_by_distance(conn, cond, rank_q, start, end)
            elif exact and total <= self.rank_window:
                hits = self._ranked_hits(conn, cond, rank_q, None, start, end)
            else:
                assert window is not None and rank_q is not None
                if not exact or total > window:
                    ranked_window = window
                hits = []
                if start < window:
                    stop = min(end, window)
                    if exact:
                        hits = self._ranked_ids(conn, newest, rank_q, start, stop)
                    elif candidates is not None:
                        hits = self._candidate_hits(
                            conn, candidates, cond, rank_q, window, start, stop
                        )
                    else:
                        hits = self._ranked_hits(conn, cond, rank_q, ranked_window, start, stop)
                if end > window:
                    rest = max(start, window)
                    hits += self._hits_by_date(conn, cond, "-date", rest, end)
        return SearchResults(total, hits, facets, ranked_window, exact)

    def _count(
        self,
        conn: sa.Connection,
        cond: sa.ColumnElement[bool],
        with_facets: bool,
        cap: int,
        window: int | None,
    ) -> tuple[int, dict[str, dict[str, int]], list[str]]:
        """Total and facet counts over at most ``cap + 1`` matches: a term found in most
        documents costs reading that many index entries, not all of them. A total above
        ``cap`` says only "more than ``cap``"; the facets are then lower bounds.

        With ``window``, also the ids of the newest ``window`` of those matches (all of
        them when the total is exact): the candidates a ranking window needs, from the
        same scan instead of a second one (a phrase's RUM bitmap: 40-80 ms each)."""
        t = self.t
        first = (
            sa.select(t.c.doc_id, t.c.class_code, t.c.archive_id, t.c.document_date)
            .where(cond)
            .limit(cap + 1)
            .cte("first")
        )
        columns: list[sa.ColumnElement[Any]] = []
        if window is not None:
            newest = (
                sa.select(first.c.doc_id)
                .order_by(first.c.document_date.desc().nulls_last(), first.c.doc_id)
                .limit(window)
                .subquery("newest")
            )
            columns.append(
                sa.select(sa.func.array_agg(newest.c.doc_id)).scalar_subquery().label("newest")
            )
        if not with_facets:
            row = conn.execute(sa.select(sa.func.count(), *columns).select_from(first)).one()
            return row[0], {}, list(row[1] or []) if columns else []
        facet_stmt = sa.select(
            first.c.class_code,
            first.c.archive_id,
            sa.func.grouping(first.c.class_code).label("g_class"),
            sa.func.count().label("n"),
            *columns,
        ).group_by(sa.text("GROUPING SETS ((class_code), (archive_id), ())"))
        facets = empty_facets()
        total = 0
        ids: list[str] = []
        for r in conn.execute(facet_stmt):
            if r.class_code is None and r.archive_id is None:
                total = r.n
                ids = list(r.newest or []) if columns else []
            elif r.g_class == 0:
                facets["class"][r.class_code] = r.n
            else:
                facets["archive"][r.archive_id] = r.n
        return total, facets, ids

    def _hits_by_date(
        self, conn: sa.Connection, cond: sa.ColumnElement[bool], sort: str, start: int, end: int
    ) -> list[Hit]:
        t = self.t
        if sort == "date":
            order = [t.c.document_date.asc().nulls_first(), t.c.doc_id]
        else:  # "-date", and the order past a ranking window
            order = [t.c.document_date.desc().nulls_last(), t.c.doc_id]
        stmt = sa.select(t.c.doc_id).where(cond).order_by(*order).offset(start).limit(end - start)
        return [Hit(doc_id, 0.0) for doc_id in conn.execute(stmt).scalars()]

    def _hits_by_distance(
        self, conn: sa.Connection, cond: sa.ColumnElement[bool], rank_q: str, start: int, end: int
    ) -> list[Hit]:
        """Hits ``start..end`` over all matches, in the order of the RUM index's distance.

        RUM keeps positions in the index, so it ranks every match from the index alone
        (about 1 us each) and only the rows up to the page's end are read from the table.
        The order must be the distance alone: with a tie-breaker column the planner sorts
        outside the index and reads every match's tsvector (1.4 s instead of 0.1 s for
        84,000 matches). Equal distances keep the index's order, which does not depend on
        the page asked for, so pages neither overlap nor skip.
        """
        t = self.t
        query = sa.cast(sa.literal(rank_q), TSQUERY)
        distance = t.c.tsv.op("<=>", return_type=sa.Float)(query)
        stmt = (
            sa.select(t.c.doc_id, distance.label("distance"))
            .where(cond)
            .order_by(distance)
            .offset(start)
            .limit(end - start)
        )
        # RUM sorts all matches itself; the default 4 MB sort memory spills ~80,000 to disk.
        conn.execute(sa.text(f"SET LOCAL work_mem = '{RANK_SORT_MEMORY}'"))
        return [Hit(r.doc_id, _score_of_distance(r.distance)) for r in conn.execute(stmt)]

    def _ranked_hits(
        self,
        conn: sa.Connection,
        cond: sa.ColumnElement[bool],
        rank_q: str,
        window: int | None,
        start: int,
        end: int,
    ) -> list[Hit]:
        """Hits ``start..end`` by ``ts_rank_cd``, over all matches or the newest ``window``.

        Ranking reads (detoasts) each candidate's whole tsvector, about 15 us per document:
        fine for a thousand, a second for tens of thousands. The window is chosen from the
        GIN matches by date alone, which reads no tsvector.
        """
        t = self.t
        candidates = sa.select(t.c.doc_id, t.c.tsv).where(cond)
        if window is not None:
            candidates = candidates.order_by(
                t.c.document_date.desc().nulls_last(), t.c.doc_id
            ).limit(window)
        c = candidates.subquery("candidates")
        score = sa.func.ts_rank_cd(c.c.tsv, sa.cast(sa.literal(rank_q), TSQUERY)).label("score")
        stmt = (
            sa.select(c.c.doc_id, score)
            .order_by(score.desc(), c.c.doc_id)
            .offset(start)
            .limit(end - start)
        )
        return [Hit(r.doc_id, float(r.score or 0.0)) for r in conn.execute(stmt)]

    def _lexeme_rarity(self, conn: sa.Connection) -> dict[str, float]:
        """Share of documents holding each of the table's most common lexemes, from the
        planner's statistics (ANALYZE keeps the most frequent ones, with their share); a
        lexeme not listed is rarer than every listed one. Read once per ANALYZE."""
        if self._rarity is None:
            row = conn.execute(
                sa.text(
                    "SELECT most_common_elems::text::text[], most_common_elem_freqs"
                    " FROM pg_stats WHERE tablename = :t AND attname = 'tsv'"
                    " AND schemaname = current_schema()"
                ),
                {"t": self.table_name},
            ).first()
            self._rarity = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
        return self._rarity

    def _candidate_hits(
        self,
        conn: sa.Connection,
        candidates: sa.ColumnElement[bool],
        cond: sa.ColumnElement[bool],
        rank_q: str,
        window: int,
        start: int,
        end: int,
    ) -> list[Hit]:
        """Hits ``start..end`` by ``ts_rank_cd`` among the newest ``window`` matches of a
        query with long phrases, found in two steps.

        The phrase in the index reads every one of its terms' posting lists with their
        positions (a 9-bigram phrase: 75 ms over 100,000 documents, its 2 rarest terms
        alone: 16 ms); checking it on a row reads that row's tsvector (~50 us). So the
        candidates are the documents with the phrases' rarest terms (``candidates``, from
        the index, no positions), newest first, and the whole query (``cond``) is checked
        on them in that order until ``window`` match: about ``window`` rows read when the
        rare terms seldom occur outside the phrase.
        """
        t = self.t
        order = [t.c.document_date.desc().nulls_last(), t.c.doc_id]
        # OFFSET 0 keeps the check out of the candidates' scan (it would read every row).
        c = sa.select(t).where(candidates).order_by(*order).offset(0).subquery("candidates")
        query = sa.cast(sa.literal(rank_q), TSQUERY)
        matched = (
            sa.select(c.c.doc_id, c.c.tsv)
            .where(ClauseAdapter(c).traverse(cond))
            .order_by(c.c.document_date.desc().nulls_last(), c.c.doc_id)
            .limit(window)
            .subquery("matched")
        )
        score = sa.func.ts_rank_cd(matched.c.tsv, query).label("score")
        stmt = (
            sa.select(matched.c.doc_id, score)
            .order_by(score.desc(), matched.c.doc_id)
            .offset(start)
            .limit(end - start)
        )
        return [Hit(r.doc_id, float(r.score or 0.0)) for r in conn.execute(stmt)]

    def _ranked_ids(
        self, conn: sa.Connection, ids: list[str], rank_q: str, start: int, end: int
    ) -> list[Hit]:
        """Hits ``start..end`` of the documents ``ids`` by ``ts_rank_cd`` (read by key)."""
        t = self.t
        score = sa.func.ts_rank_cd(t.c.tsv, sa.cast(sa.literal(rank_q), TSQUERY)).label("score")
        stmt = (
            sa.select(t.c.doc_id, score)
            .where(t.c.doc_id.in_(ids))
            .order_by(score.desc(), t.c.doc_id)
            .offset(start)
            .limit(end - start)
        )
        return [Hit(r.doc_id, float(r.score or 0.0)) for r in conn.execute(stmt)]

    def _filters(self, req: SearchRequest, *, words_first: bool) -> list[sa.ColumnElement[bool]]:
        """SQL conditions for the request's filters.

        ``words_first``: the query has words, so the text index is where the search must
        start. The planner does not know that checking a row's words reads its 13 KB
        tsvector; given an indexed date or amount range it starts from that b-tree and
        checks the words of every row in the range (a 2020 date range on 发票: 1.6 s, against
        14 ms starting from the words). Written as ``column + 0``, a range cannot use its
        b-tree and is checked on the rows the text index found; the worst case then is a
        very narrow range on a very common word (one day on 公司: 64 ms).
        """
        t = self.t
        date_col = t.c.document_date + 0 if words_first else t.c.document_date
        amount_col = t.c.amount + 0 if words_first else t.c.amount
        out: list[sa.ColumnElement[bool]] = [t.c.level.in_(sorted(req.allowed_levels))]
        if req.archive_ids is not None:
            out.append(t.c.archive_id.in_(req.archive_ids))
        if req.class_codes is not None:
            out.append(t.c.class_code.in_(req.class_codes))
        if req.tags:
            out.append(t.c.tags.contains(list(req.tags)))
        if req.statuses is not None:
            out.append(t.c.status.in_(req.statuses))
        if req.date_from is not None:
            out.append(date_col >= req.date_from)
        if req.date_to is not None:
            out.append(date_col <= req.date_to)
        if req.amount_min is not None:
            out.append(amount_col >= req.amount_min)
        if req.amount_max is not None:
            out.append(amount_col <= req.amount_max)
        return out

    def close(self) -> None:
        self._analyser.close()
        if self._own_engine:
            self.engine.dispose()

    def __enter__(self) -> PostgresBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------- compile

# A compiled node is ("ts", tsquery text) while it is pure full text, so that whole
# boolean sub-trees run as one tsquery against the GIN index, or ("sql", expression) once
# it involves columns (class:, archive:, status:) or "everything".
_Compiled = tuple[str, Any]


class _Compiler:
    def __init__(
        self, t: sa.Table, *, char_terms: bool, rarity: dict[str, float] | None = None
    ) -> None:
        self.t = t
        self.char_terms = char_terms
        self.positive: list[str] = []  # tsquery fragments that rank documents
        # With ``rarity`` (lexeme -> share of documents), long phrases outside negations
        # compile to their rarest terms alone: a superset of the matches, the candidates.
        self.rarity = rarity
        self.loosened = False  # some phrase was compiled to its candidate terms

    def rank_query(self) -> str | None:
        if not self.positive:
            return None
        return " | ".join(f"({p})" for p in self.positive)

    def to_sql(self, c: _Compiled) -> sa.ColumnElement[bool]:
        kind, value = c
        if kind == "ts":
            return self.t.c.tsv.op("@@")(sa.cast(sa.literal(value), TSQUERY))
        return value

    def compile(self, node: Node, negated: bool = False) -> _Compiled | None:
        t = self.t
        if isinstance(node, MatchAll):
            return ("sql", sa.true())
        if isinstance(node, Word | Phrase):
            if node.field == "class":
                return ("sql", t.c.class_code == node.text)
            if node.field == "status":
                return ("sql", t.c.status == node.text)
            if node.field == "archive":
                return ("sql", sa.or_(t.c.archive_id == node.text, t.c.archive_number == node.text))
            units = query_units(node.text, phrase=isinstance(node, Phrase))
            if not units:
                return None
            weight = {"title": "A", "body": "D"}.get(node.field or "", "")
            rarity = None if negated else self.rarity
            ts = " & ".join(_unit_ts(u, weight, self.char_terms, rarity) for u in units)
            if rarity is not None and any(_is_long_phrase(u) for u in units):
                self.loosened = True
            if not negated:
                self.positive.append(ts)
            return ("ts", ts)
        if isinstance(node, Not):
            inner = self.compile(node.child, not negated)
            if inner is None:
                return ("sql", sa.true())
            if inner[0] == "ts":
                return ("ts", f"!({inner[1]})")
            return ("sql", sa.not_(inner[1]))
        if isinstance(node, And | Or):
            parts: list[_Compiled] = []
            for child in node.children:
                c = self.compile(child, negated)
                if c is None:
                    if isinstance(node, And) and not (
                        isinstance(child, Word | Phrase) and not query_units(child.text)
                    ):
                        return None
                    continue
                parts.append(c)
            if not parts:
                return None
            if len(parts) == 1:
                return parts[0]
            op = " & " if isinstance(node, And) else " | "
            if all(k == "ts" for k, _ in parts):
                return ("ts", op.join(f"({v})" for _, v in parts))
            combine = sa.and_ if isinstance(node, And) else sa.or_
            return ("sql", combine(*(self.to_sql(p) for p in parts)))
        raise TypeError(f"unknown query node {node!r}")


def _score_of_distance(distance: float | None) -> float:
    """RUM's distance is the inverse of its rank: turn it back into a score (higher wins)."""
    if not distance or distance == float("inf"):
        return 0.0
    return 1.0 / distance


def _is_long_phrase(unit: Unit) -> bool:
    return isinstance(unit, PhraseUnit) and len(unit.terms) >= LONG_PHRASE_TERMS


def _unit_ts(
    unit: Unit, weight: str, char_terms: bool, rarity: dict[str, float] | None = None
) -> str:
    """The tsquery of one unit; with ``rarity``, a long phrase becomes its candidates."""
    w = f":{weight}" if weight else ""
    if isinstance(unit, TermUnit):
        return f"{_lexeme(unit.term)}{w}"
    if isinstance(unit, PrefixUnit):
        # A single CJK character: its own term (one posting list), or on a table from
        # before character terms every term starting with it (one list per bigram).
        if char_terms:
            return f"{_lexeme(CHAR_MARK + unit.prefix)}{w}"
        return f"{_lexeme(unit.prefix)}:*{weight}"
    assert isinstance(unit, PhraseUnit)
    if rarity is not None and _is_long_phrase(unit):
        rarest = sorted(set(unit.terms), key=lambda term: (rarity.get(term, 0.0), term))
        phrase = " & ".join(f"{_lexeme(term)}{w}" for term in rarest[:CANDIDATE_TERMS])
    else:
        phrase = " <-> ".join(f"{_lexeme(term)}{w}" for term in unit.terms)
    if unit.word:
        return f"(({phrase}) | {_lexeme(unit.word)}{w})"
    return f"({phrase})"


def _narrowed(req: SearchRequest) -> bool:
    """Does the request filter on more than the confidentiality levels?"""
    return any(
        v is not None
        for v in (
            req.archive_ids,
            req.class_codes,
            req.statuses,
            req.date_from,
            req.date_to,
            req.amount_min,
            req.amount_max,
        )
    ) or bool(req.tags)


def _settings(conn: sa.Connection, **on: bool) -> None:
    """Turn boolean settings on or off for the rest of the transaction, in one round trip."""
    calls = ", ".join(
        f"set_config('{name}', '{'on' if v else 'off'}', true)" for name, v in on.items()
    )
    conn.execute(sa.text(f"SELECT {calls}"))
