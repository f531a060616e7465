"""PostgreSQL backups copy every table from one snapshot: a write committed while the
copy runs is not in it, and the manifest's counts are the snapshot's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive_app.infra.container import Container
from archive_app.models import User
from archive_app.services import backup


@pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)
def test_postgresql_copy_reads_one_snapshot(
    container: Container, admin: User, make_user, tmp_path: Path
) -> None:
    """A user committed while the copy runs is not in the backup: one transaction."""
    committed = []

    def commit_meanwhile(phase: str, done: int, total: int | None) -> None:
        if phase == "copying database" and total is not None and not committed:
            committed.append(make_user("latecomer", "staff"))

    dest = tmp_path / "snapshot"
    with container.database.session() as session:
        report = backup.create_backup(container, session, admin, dest, progress=commit_meanwhile)
    assert committed
    with container.database.session() as session:
        users_now = session.scalar(select(func.count()).select_from(User))
    assert report.manifest.tables["users"] == users_now - 1
    shutil.rmtree(dest)
