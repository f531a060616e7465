"""The database part of a backup: one consistent SQLite copy, and loading it back.

Backup (:func:`copy_database`), always into one SQLite file with the application's schema:

- from SQLite, with SQLite's online backup API in one step (one read transaction, so the
  copy is one moment of the database while writers carry on);
- from PostgreSQL, as a logical copy: one ``REPEATABLE READ, READ ONLY`` transaction reads
  every table of the application's metadata plus ``alembic_version`` from a single snapshot,
  streamed in batches (see :mod:`archive_app.services.backup.tables`) into a SQLite file
  whose schema the migrations created at the source's revision.

So a backup of either database restores into either. Restore (:func:`load_database`) runs
in ONE transaction of the target: create the schema at the backup's revision when the
database has none, check that every application table is empty, copy every table back,
reset PostgreSQL's id sequences, migrate to the newest
revision, then let the caller add its audit entry. Any failure rolls all of it back
(schema included: SQLite and PostgreSQL both have transactional DDL), so an interrupted
restore leaves the database as it found it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, delete, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from archive_app.infra import schema
from archive_app.infra.db import Database
from archive_app.services.backup.errors import BackupError, BackupUnsupported, TargetNotEmpty
from archive_app.services.backup.progress import Progress, RowCounter
from archive_app.services.backup.tables import (
    ALEMBIC_VERSION,
    DEFAULT_BATCH,
    application_tables,
    copy_table,
    count_rows,
    reset_sequences,
    with_retired_columns,
)
from storage import BlobStore
from storage.backup import copy_sqlite_file


@dataclass(frozen=True)
class DatabaseCopy:
    dialect: str
    revision: str
    tables: dict[str, int]


def schema_revision(connection: Connection) -> str:
    """The applied Alembic revisions, joined by commas ('' when there is no schema)."""
    heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads))


def _migrate(
    connection: Connection, revision: str, store: BlobStore | None = None
) -> list[Callable[[], None]]:
    """Run the migrations on ``connection`` (inside its transaction) up to ``revision``;
    return the work they leave for after the commit (see ``schema.upgrade``)."""
    config = schema.alembic_config()
    config.attributes["connection"] = connection
    config.attributes["store"] = store
    for head in revision.split(","):
        command.upgrade(config, head)
    return list(config.attributes.get("after_commit", []))


def open_copy(path: Path) -> Engine:
    """A read-only engine on a SQLite copy that never changes a byte of the file."""
    uri = Path(path).absolute().as_uri() + "?mode=ro&immutable=1"
    return create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool
    )


def _counts(path: Path) -> tuple[str, dict[str, int]]:
    engine = open_copy(path)
    try:
        with engine.connect() as connection:
            revision = schema_revision(connection)
            counts = {t.name: count_rows(connection, t) for t in application_tables()}
    finally:
        engine.dispose()
    return revision, counts


def copy_database(database: Database, dest: Path, progress: Progress) -> DatabaseCopy:
    """Write a consistent copy of ``database`` to the new SQLite file ``dest``."""
    dialect = database.engine.dialect.name
    if dialect == "sqlite":
        _copy_sqlite(database, dest)
    else:
        _copy_logical(database, dest, progress)
    revision, counts = _counts(dest)
    if not revision:
        raise BackupError("the database copy has no schema revision; run `archive init`")
    return DatabaseCopy(dialect, revision, counts)


def _create_private(path: Path) -> None:
    """The copy holds users' password hashes and all metadata: private from the start."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _copy_sqlite(database: Database, dest: Path) -> None:
    path = make_url(database.url).database
    if not path or path == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    # The copy holds users' password hashes and all metadata: private from the start.
    copy_sqlite_file(Path(path), dest)


def _copy_logical(database: Database, dest: Path, progress: Progress) -> None:
    tables = application_tables()
    _create_private(dest)
    target_engine = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(dest), poolclass=NullPool
    )
    try:
        with database.engine.connect() as source:
            # Before the transaction's first query, whose snapshot then serves every table.
            source.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            revision = schema_revision(source)
            if not revision:
                raise BackupError("the database has no schema revision; run `archive init`")
            with target_engine.begin() as target:
                _migrate(target, revision)
                # The copy holds the source's rows only, whatever a migration may seed.
                for table in [*reversed(tables), ALEMBIC_VERSION]:
                    target.execute(delete(table))
                total = sum(count_rows(source, t) for t in tables)
                advance = RowCounter(progress, "copying database", total).advance
                for table in [*tables, ALEMBIC_VERSION]:
                    copy_table(source, target, table, on_rows=advance, backup_copy=True)
            source.rollback()  # read only: nothing to commit
    finally:
        target_engine.dispose()


def check_revision_known(revision: str) -> None:
    """The backup's schema revision must be one these migrations know (not newer)."""
    script = ScriptDirectory.from_config(schema.alembic_config())
    for head in revision.split(","):
        try:
            found = script.get_revision(head) if head else None
        except CommandError:
            found = None
        if found is None or found.revision != head:
            raise BackupUnsupported(
                f"its database schema revision {head} is unknown to this version "
                "(made by a newer version?)"
            )


def load_database(
    target: Database,
    backup_file: Path,
    revision: str,
    expected: dict[str, int],
    progress: Progress,
    finish: Callable[[Connection], None],
    store: BlobStore | None = None,
) -> None:
    """Load the SQLite copy into ``target`` in one transaction (see the module doc);
    ``finish(connection)`` runs last inside it (the restore's audit entry). ``store``: the
    restored encrypted store, for migrations of an older backup that move content into it."""
    tables = application_tables()
    source_engine = open_copy(backup_file)
    try:
        with target.engine.begin() as connection, source_engine.connect() as source:
            current = schema_revision(connection)
            if not current:
                _migrate(connection, revision)
            elif set(current.split(",")) != set(revision.split(",")):
                raise TargetNotEmpty(
                    f"the database already has a schema (revision {current}, the backup's "
                    f"is {revision})"
                )
            existing = set(inspect(connection).get_table_names())
            for table in tables:
                if table.name not in existing:
                    continue
                if connection.execute(select(1).select_from(table).limit(1)).first():
                    raise TargetNotEmpty(f"the database already holds data (table {table.name})")
            total = sum(expected.values())
            advance = RowCounter(progress, "loading database", total).advance

            # A backup made at an older revision lacks later tables and columns: copy what
            # it has (the target is at the same revision), then migrate to the newest.
            present = set(inspect(source).get_table_names())
            for table in tables:
                if table.name not in present:
                    continue
                columns = {column["name"] for column in inspect(source).get_columns(table.name)}
                copied = copy_table(
                    source,
                    connection,
                    with_retired_columns(table, connection, columns),
                    batch=DEFAULT_BATCH,
                    on_rows=advance,
                    only=columns,
                )
                if copied != expected.get(table.name, 0):
                    raise BackupError(
                        f"table {table.name}: {copied} rows loaded, the manifest says "
                        f"{expected.get(table.name, 0)}; nothing was restored"
                    )
            reset_sequences(connection, tables)
            after_commit = _migrate(connection, "heads", store)
            finish(connection)
        for action in after_commit:
            action()
    finally:
        source_engine.dispose()
