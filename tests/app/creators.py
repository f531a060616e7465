"""A worker that creates customer archives; run in threads and in separate processes by
the concurrency tests (module-level so that a spawned process can import it)."""

from __future__ import annotations

from archive_app.infra.db import Database
from archive_app.services import archives, bootstrap
from archive_app.services.archives import ArchiveInput


def create_archives(database_url: str, prefix: str, count: int) -> list[str]:
    database = Database(database_url)
    numbers: list[str] = []
    try:
        for index in range(count):
            with database.session() as session:
                admin = bootstrap.get_admin(session)
                assert admin is not None
                archive = archives.create_archive(
                    session,
                    admin,
                    ArchiveInput(name=f"{prefix} 客户 {index}"),
                    number_pattern="KH-{seq:06d}",
                )
                numbers.append(archive.number)
    finally:
        database.dispose()
    return numbers
