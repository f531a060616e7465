"""The class catalogue tests reuse the filing checklist's fixtures (an archive, archivists,
intake through the real path) and seed the shipped retention rules."""

from __future__ import annotations

import pytest

from archive_app.infra.container import Container
from archive_app.services import bootstrap
from tests.checklist.conftest import (  # noqa: F401 (fixtures)
    archive_number,
    compliance,
    filer,
    ingest,
    make_ready,
    reviewer,
)


@pytest.fixture
def rules(container: Container) -> None:
    with container.database.session() as session:
        bootstrap.seed_retention_rules(session)
