"""Index maintenance: resumable reindex, drift detection against the database, repair.

``reindex`` walks a document source in a stable order and writes it to the backend in
batches; after every committed batch it records the last doc id in a checkpoint file
(written atomically). Interrupted, it can be run again with the same checkpoint and goes on
after that id; finished, it removes the checkpoint. Memory is bounded by one batch.

The source is either

* a callable ``source(after_id)`` returning the documents after ``after_id`` (``None``:
  from the start) in a stable order, typically ``WHERE id > :after ORDER BY id``; or
* an iterable in a stable order; on resume the documents up to and including the
  checkpointed id are skipped (read, not indexed).

Reindexing upserts: a document that disappeared from the source is not removed by it;
``diff``/``repair`` against the database's list of ids do that. The whole run is one
``backend.bulk_load()`` block, so a backend may defer index upkeep to its end.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .backend import IndexDocument, SearchBackend
from .errors import CheckpointError

__all__ = [
    "Drift",
    "ReindexProgress",
    "ReindexReport",
    "RepairReport",
    "diff",
    "reindex",
    "repair",
]

Source = Callable[[str | None], Iterable[IndexDocument]] | Iterable[IndexDocument]


@dataclass(frozen=True, slots=True)
class ReindexProgress:
    indexed: int  # documents committed in this run
    last_doc_id: str | None
    total: int | None  # as given by the caller, if known
    elapsed: float


@dataclass(frozen=True, slots=True)
class ReindexReport:
    indexed: int
    batches: int
    resumed_after: str | None
    last_doc_id: str | None
    elapsed: float


def _read_checkpoint(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CheckpointError(path, str(exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("last_doc_id"), str):
        raise CheckpointError(path, "no last_doc_id")
    return data["last_doc_id"]


def _write_checkpoint(path: str, last_doc_id: str, indexed: int) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"version": 1, "last_doc_id": last_doc_id, "indexed": indexed}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def reindex(
    backend: SearchBackend,
    source: Source,
    *,
    checkpoint_path: str,
    batch_size: int = 500,
    on_progress: Callable[[ReindexProgress], None] | None = None,
    total: int | None = None,
) -> ReindexReport:
    """Index every document of ``source``, resuming after the checkpoint if there is one."""
    started = time.monotonic()
    resumed_after = _read_checkpoint(checkpoint_path)
    if callable(source):
        docs: Iterable[IndexDocument] = source(resumed_after)
        skipping = False
    else:
        docs = source
        skipping = resumed_after is not None
    indexed = 0
    batches = 0
    last: str | None = resumed_after
    batch: list[IndexDocument] = []

    def commit() -> None:
        nonlocal indexed, batches, last
        backend.add(batch)
        indexed += len(batch)
        batches += 1
        last = batch[-1].doc_id
        _write_checkpoint(checkpoint_path, last, indexed)
        batch.clear()
        if on_progress is not None:
            on_progress(ReindexProgress(indexed, last, total, time.monotonic() - started))

    with backend.bulk_load():
        for doc in docs:
            if skipping:
                if doc.doc_id == resumed_after:
                    skipping = False
                continue
            batch.append(doc)
            if len(batch) >= batch_size:
                commit()
        if batch:
            commit()
    with contextlib.suppress(FileNotFoundError):
        os.remove(checkpoint_path)
    return ReindexReport(indexed, batches, resumed_after, last, time.monotonic() - started)


@dataclass(frozen=True, slots=True)
class Drift:
    """Ids the index lacks (``missing``) and ids it has but should not (``extra``)."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.missing and not self.extra


@dataclass(frozen=True, slots=True)
class RepairReport:
    added: int
    removed: int


def diff(backend: SearchBackend, expected_ids: Iterable[str]) -> Drift:
    """Compare the index with the ids that should be indexed (e.g. from the database)."""
    expected = set(expected_ids)
    indexed = set(backend.doc_ids())
    return Drift(sorted(expected - indexed), sorted(indexed - expected))


def repair(
    backend: SearchBackend,
    drift: Drift,
    load: Callable[[list[str]], Iterable[IndexDocument]],
    *,
    batch_size: int = 500,
    purge: bool = True,
) -> RepairReport:
    """Index the missing documents (``load(ids)`` yields them) and delete the extra ones.

    With ``purge`` (the default) removed documents' terms are made physically gone.
    """
    added = 0
    for i in range(0, len(drift.missing), batch_size):
        added += backend.add(load(drift.missing[i : i + batch_size]))
    if drift.extra:
        backend.delete(drift.extra)
        if purge:
            backend.purge()
    return RepairReport(added, len(drift.extra))
