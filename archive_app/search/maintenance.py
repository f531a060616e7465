"""Whole-index maintenance: a resumable rebuild and a check against the database.

:func:`rebuild` reindexes every indexable document (see :mod:`archive_app.search.entries`)
in a stable order, in batches of ``batch_size`` read in short transactions, so memory holds
one batch and SQLite's write lock is never held for long. After each batch the library
records a checkpoint in the instance folder; an interrupted rebuild goes on after it unless
``restart`` is given. At the end, entries without an indexable document are removed and
purged. :func:`check` compares the index with the database (missing and extra entries,
named by document number) and, with ``repair``, indexes the missing and purges the extra.
:func:`switch` builds the index of another backend beside the one in use the same way and
makes it the one in use when complete. All three are index administration across every archive (they name documents of any archive):
the acting user must be compliance or an administrator. Both report progress through a callback, for the CLI's progress bar or any other front end.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from archive_app.models import Document, DocumentStatus, User
from archive_app.permissions import Capability, require
from archive_app.search.backend import translate
from archive_app.search.entries import (
    entry_for,
    indexable,
    load_documents,
    not_restricted,
    tags_of,
)

if TYPE_CHECKING:
    from archive_app.infra.container import Container
    from indexing.search import IndexDocument, SearchBackend

BATCH = 200
CHECKPOINT_NAME = "search-reindex.checkpoint"


@dataclass(frozen=True)
class Progress:
    done: int
    total: int | None


@dataclass(frozen=True)
class RebuildReport:
    indexed: int
    resumed_after: str | None
    removed: int
    elapsed: float


def _indexable_query() -> Any:
    return select(Document.id).where(
        Document.status == DocumentStatus.READY,
        Document.destroyed_at.is_(None),
        Document.text_object_id.is_not(None),
        not_restricted(),
    )


def _source(container: Container, batch: int) -> Callable[[str | None], Iterator[IndexDocument]]:
    def documents_after(after: str | None) -> Iterator[IndexDocument]:
        last = int(after) if after else 0
        while True:
            # One short transaction per page: on SQLite a long one would hold the write
            # lock for the whole rebuild; memory holds one page of text.
            with container.database.session() as session:
                ids = list(
                    session.scalars(
                        _indexable_query()
                        .where(Document.id > last)
                        .order_by(Document.id)
                        .limit(batch)
                    )
                )
                if not ids:
                    return
                documents = load_documents(session, ids)
                tags = tags_of(session, ids)
            # Decrypt outside the transaction (the rows' attributes stay loaded).
            page = [entry_for(container, d, tags.get(d.id, ())) for d in documents]
            del documents
            yield from page
            last = ids[-1]

    return documents_after


def checkpoint_path(container: Container) -> str:
    return str(container.settings.home / CHECKPOINT_NAME)


def rebuild(
    container: Container,
    actor: User,
    *,
    batch_size: int = BATCH,
    on_progress: Callable[[Progress], None] | None = None,
    restart: bool = False,
) -> RebuildReport:
    """Reindex every indexable document, resuming after an interruption unless
    ``restart``; then remove (and purge) entries that have no indexable document."""
    require(actor, Capability.MAINTAIN_INDEX)
    path = checkpoint_path(container)
    if restart:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    return _build(container, container.search, path, batch_size, on_progress)


def switch(
    container: Container,
    actor: User,
    url: str,
    *,
    batch_size: int = BATCH,
    on_progress: Callable[[Progress], None] | None = None,
    restart: bool = False,
) -> RebuildReport:
    """Build the index of backend ``url`` beside the one in use, then make it the one in use.

    The instance's record (:mod:`archive_app.search.record`) changes only once the new
    index holds every indexable document: until then, and if the build fails or is
    killed, the old index stays in use. The partial new index is resumable: the same
    command goes on after its checkpoint (``restart`` starts it again from empty).
    Processes already running (``archive serve``, workers) open the new backend when
    restarted.
    """
    from archive_app.infra.config import validate_search_url
    from archive_app.search.backend import SwitchRefused, open_search_backend
    from archive_app.search.record import record

    require(actor, Capability.MAINTAIN_INDEX)
    settings = container.settings
    if settings.search_url:
        raise SwitchRefused(url, "ARCHIVE_SEARCH_URL names the backend; change it there")
    validate_search_url(url)
    current = settings.resolved_search_url
    if _location(url) == _location(current):
        raise SwitchRefused(url, f"that is where the index in use ({current}) is")
    path = str(
        settings.home / f"search-switch-{hashlib.sha256(url.encode()).hexdigest()[:12]}.checkpoint"
    )
    if restart:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    target = open_search_backend(settings.with_overrides(search_url=url))
    try:
        if not os.path.exists(path):
            target.clear()  # not a resumed build: start from an empty index
        report = _build(container, target, path, batch_size, on_progress)
    finally:
        target.close()
    record(settings, url)
    container.reopen_search()
    return report


def _location(url: str) -> str:
    """An embedded index's folder, or the URL itself: two URLs of one place are one index."""
    scheme, _, rest = url.partition(":")
    if scheme in ("whoosh", "tantivy"):
        return os.path.normpath(rest.removeprefix("//"))
    return url


def _build(
    container: Container,
    backend: SearchBackend,
    path: str,
    batch_size: int,
    on_progress: Callable[[Progress], None] | None,
) -> RebuildReport:
    from indexing.search import Drift, ReindexProgress, SearchError, diff, reindex
    from indexing.search import repair as repair_drift

    after = _read_checkpoint(path)
    with container.database.session() as session:
        total = session.scalar(
            select(func.count()).select_from(
                _indexable_query().where(Document.id > int(after or 0)).subquery()
            )
        )

    def progress(p: ReindexProgress) -> None:
        if on_progress is not None:
            on_progress(Progress(p.indexed, p.total))

    if on_progress is not None:
        on_progress(Progress(0, total))
    try:
        report = reindex(
            backend,
            _source(container, batch_size),
            checkpoint_path=path,
            batch_size=batch_size,
            on_progress=progress,
            total=total,
        )
        drift = diff(backend, _expected_ids(container))
        if drift.extra:
            repair_drift(backend, Drift([], drift.extra), _loader(container))
    except SearchError as error:
        raise translate(error) from error
    return RebuildReport(report.indexed, report.resumed_after, len(drift.extra), report.elapsed)


def _loader(container: Container) -> Callable[[list[str]], list[IndexDocument]]:
    def load(ids: list[str]) -> list[IndexDocument]:
        with container.database.session() as session:
            documents = load_documents(session, [int(i) for i in ids])
            tags = tags_of(session, [d.id for d in documents])
        return [entry_for(container, d, tags.get(d.id, ())) for d in documents if indexable(d)]

    return load


def _read_checkpoint(path: str) -> str | None:
    """The last document id a previous, interrupted rebuild committed (for the count)."""
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle).get("last_doc_id")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value.isdigit() else None


def _expected_ids(container: Container) -> list[str]:
    with container.database.session() as session:
        return [str(i) for i in session.scalars(_indexable_query())]


@dataclass
class CheckReport:
    """Documents the index lacks and entries it has without an indexable document,
    named by document number where a row exists (``#id`` otherwise)."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    repaired: bool = False

    @property
    def clean(self) -> bool:
        return self.repaired or (not self.missing and not self.extra)

    def as_dict(self) -> dict[str, Any]:
        return {
            "missing": self.missing,
            "extra": self.extra,
            "repaired": self.repaired,
            "added": self.added,
            "removed": self.removed,
            "clean": self.clean,
        }


def check(container: Container, actor: User | None, *, repair: bool = False) -> CheckReport:
    """Compare index and database; with ``repair``, index the missing documents and
    delete (and purge) the extra entries. ``actor`` None is the scheduled inspection,
    which only reads: it may not repair."""
    from indexing.search import Drift, SearchError, diff
    from indexing.search import repair as repair_drift

    if actor is None:
        if repair:
            raise ValueError("a repair of the search index needs an acting user")
    else:
        require(actor, Capability.MAINTAIN_INDEX)

    try:
        drift = diff(container.search, _expected_ids(container))
    except SearchError as error:
        raise translate(error) from error
    wanted = [int(i) for i in drift.missing + drift.extra if i.isdigit()]
    with container.database.session() as session:
        rows = session.execute(select(Document.id, Document.number).where(Document.id.in_(wanted)))
        numbers = {doc_id: number for doc_id, number in rows}

    def name(doc_id: str) -> str:
        return numbers.get(int(doc_id), f"#{doc_id}") if doc_id.isdigit() else f"#{doc_id}"

    report = CheckReport([name(i) for i in drift.missing], [name(i) for i in drift.extra])
    if repair and not drift.clean:
        try:
            result = repair_drift(
                container.search, Drift(drift.missing, drift.extra), _loader(container)
            )
        except SearchError as error:
            raise translate(error) from error
        report.added, report.removed, report.repaired = result.added, result.removed, True
    return report
