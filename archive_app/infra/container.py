"""The services container: settings plus the long-lived resources built from them
(database, encrypted store, task queue). One per web app, CLI invocation or worker.

Resources open lazily, so commands that need no store never ask for the master key.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from archive_app.infra import scratch
from archive_app.infra.config import Settings
from archive_app.infra.db import Database
from archive_app.models import CustomerArchive

if TYPE_CHECKING:
    from celery import Celery

    from archive_app.search.updates import IndexCommitter
    from indexing.extract import Engines
    from indexing.search import SearchBackend
    from storage import BlobStore


@dataclass
class Container:
    settings: Settings
    database: Database
    _store: BlobStore | None = field(default=None, repr=False)
    _celery: Celery | None = field(default=None, repr=False)
    _search: SearchBackend | None = field(default=None, repr=False)
    _index_committer: IndexCommitter | None = field(default=None, repr=False)
    _engines: Engines | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Container:
        container = cls(settings=settings, database=Database(settings.database_url))
        # What use cases record for the search index is applied around their commits.
        from archive_app.search.updates import IndexCommitter

        container._index_committer = IndexCommitter(container)
        container._index_committer.install(container.database.session_factory)
        return container

    @property
    def store(self) -> BlobStore:
        with self._lock:
            if self._store is None:
                from archive_app.infra.vault import open_store

                self._store = open_store(self.settings)
            return self._store

    @property
    def search(self) -> SearchBackend:
        with self._lock:
            if self._search is None:
                from archive_app.search.backend import open_search_backend

                self._search = open_search_backend(self.settings)
            return self._search

    def reopen_search(self) -> None:
        """Close the search backend; the next use opens the one the settings name now."""
        with self._lock:
            if self._search is not None:
                self._search.close()
                self._search = None

    @property
    def temp_folder(self) -> Path:
        """This process's private temporary folder inside the instance (``scratch``)."""
        return scratch.process_folder(self.settings.home)

    @property
    def engines(self) -> Engines:
        """The OCR engines of ``ARCHIVE_OCR_ENGINE``, opened and checked once per process."""
        with self._lock:
            if self._engines is None:
                from indexing.extract import open_engines

                self._engines = open_engines(
                    self.settings.ocr_engine,
                    self.settings.ocr_languages,
                    temp_dir=self.temp_folder,
                )
            return self._engines

    def open_engines(self) -> None:
        """Open the OCR engines now, so a missing or broken one stops start-up with its
        one-line message instead of failing every document."""
        _ = self.engines

    def drain_index_updates(self) -> None:
        """Wait for background index updates (tests, and before closing)."""
        if self._index_committer is not None:
            self._index_committer.drain()

    @property
    def celery(self) -> Celery:
        with self._lock:
            if self._celery is None:
                from archive_app.tasks import make_celery

                self._celery = make_celery(self.settings)
            return self._celery

    def open_store(self) -> None:
        """Open the store now, so a missing or wrong master key stops start-up with its
        one-line message instead of failing the first request that needs it."""
        _ = self.store

    def on_archive_created(self, archive: CustomerArchive) -> None:
        """Every archive gets its own key in the store when it is created."""
        self.store.create_archive(archive.storage_id)

    def on_archives_created(self, storage_ids: Sequence[str]) -> None:
        """:meth:`on_archive_created` for many archives at once (an import)."""
        self.store.create_archives(storage_ids)

    def enqueue_processing(self, document_id: int) -> None:
        from archive_app.tasks import PROCESS_DOCUMENT

        self.celery.send_task(PROCESS_DOCUMENT, args=[document_id])

    def close(self) -> None:
        if self._index_committer is not None:
            self._index_committer.close()
        if self._search is not None:
            self._search.close()
            self._search = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self.database.dispose()
