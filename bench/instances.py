"""A throwaway instance for a benchmark run, on SQLite or on a fresh PostgreSQL database.

Contract: ``scratch_instance(kind, server, label, admin_password=...)`` yields the settings
of an initialised instance in a new temporary folder (``settings.home.parent`` is that
folder, for the run's other files); for ``kind == "postgresql"`` its database is created on
``server`` first. Both are removed when the block ends, however it ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from archive_app.infra.config import Settings
from archive_app.services.initialise import initialise


def admin_statement(url: str, statement: str) -> None:
    """One statement outside a transaction (CREATE or DROP DATABASE)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@contextmanager
def scratch_instance(
    kind: str, server: str, label: str, *, admin_password: str
) -> Iterator[Settings]:
    workdir = Path(tempfile.mkdtemp(prefix=f"archive-{label}-bench-{kind}-"))
    database = None
    if kind == "postgresql":
        database = f"bench_{label}_{os.getpid()}"
        admin_statement(server, f'CREATE DATABASE "{database}"')
        url = make_url(server).set(database=database).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{workdir / 'instance' / 'archive.db'}"
    try:
        settings = Settings(
            home=workdir / "instance", database_url=url, secret_key="bench-secret-key-0123456789"
        )
        initialise(settings, admin_password=admin_password)
        yield settings
    finally:
        if database is not None:
            admin_statement(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)
