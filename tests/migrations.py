"""Downgrading a test database to an older revision, as the migration tests do to stand
an instance "as the previous version left it".

On SQLite a downgrade may rebuild a table (a batch copy) that other rows reference; the
old copy can only be dropped with foreign keys off, and that pragma works only outside a
transaction, so it is set on the driver's connection around the downgrade's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from sqlalchemy import Connection, Engine

from archive_app.infra import schema


@contextmanager
def downgraded(engine: Engine, revision: str) -> Iterator[Connection]:
    """Downgrade to ``revision``; the body runs on the same connection and transaction
    (to stand old rows in place), foreign keys still off on SQLite."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        if sqlite and raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config = schema.alembic_config()
                config.attributes["connection"] = connection
                command.downgrade(config, revision)
                yield connection
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
