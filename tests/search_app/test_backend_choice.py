"""Which search backend an instance uses: Tantivy for a new instance, the Whoosh index an
existing instance has until the administrator switches (``archive reindex --to URL``), and
a switch that, failing midway or killed (SIGKILL, a real process), leaves the old index
answering and goes on when run again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from archive_app.infra.config import Settings
from archive_app.infra.container import Container
from archive_app.models import AuditEntry
from archive_app.search import maintenance as search_maintenance
from archive_app.search import record as search_record
from archive_app.search.backend import SwitchRefused
from archive_app.services.initialise import initialise
from tests.app.workers import kill_when

from .conftest import Env
from .test_search import found

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers


def test_a_new_instance_uses_tantivy_and_an_existing_one_keeps_whoosh(
    tmp_path: Path, sqlite_template: Path
) -> None:
    new = Settings(home=tmp_path / "new", database_url=f"sqlite:///{tmp_path / 'new.db'}")
    initialise(new, admin_password="Seven-bridges-of-the-city")
    assert new.resolved_search_url == f"tantivy://{new.home / 'index'}"
    container = Container.from_settings(new)
    try:
        assert container.search.name == "tantivy"
    finally:
        container.close()

    # An instance whose database exists already (made before the record did) keeps the
    # Whoosh index in its folder; running init again changes nothing.
    old_db = tmp_path / "old.db"
    old_db.write_bytes(Path(sqlite_template).read_bytes())
    old = Settings(home=tmp_path / "old", database_url=f"sqlite:///{old_db}")
    for _ in range(2):
        initialise(old, admin_password="Seven-bridges-of-the-city")
        assert old.resolved_search_url == f"whoosh://{old.home / 'index'}"


def test_a_switch_interrupted_midway_leaves_the_old_index_answering_then_completes(
    env: Env, tmp_path: Path
) -> None:
    admin = env.admin()
    target = f"tantivy://{tmp_path / 'tantivy-index'}"
    if env.settings.search_url:  # the backend is named by ARCHIVE_SEARCH_URL
        with pytest.raises(SwitchRefused):
            search_maintenance.switch(env.container, admin, target)
        return
    before = env.settings.resolved_search_url
    expected = found(env, "违约金")
    assert expected == {"penalty", "secret", "scan"}

    seen: list[search_maintenance.Progress] = []

    def fail_midway(progress: search_maintenance.Progress) -> None:
        seen.append(progress)
        if progress.done >= 2:
            raise OSError("disk full")

    with pytest.raises(OSError):
        search_maintenance.switch(
            env.container, admin, target, batch_size=2, on_progress=fail_midway
        )
    assert seen[0].total == len(env.ids) and seen[-1].done == 2  # progress is shown
    assert env.settings.resolved_search_url == before
    assert env.container.search.name == "whoosh"
    assert found(env, "违约金") == expected
    with pytest.raises(SwitchRefused):  # the index in use cannot be rebuilt over itself
        search_maintenance.switch(env.container, admin, before.replace("whoosh:", "tantivy:", 1))

    try:
        # The same command goes on after the checkpoint and is audited.
        result = env.cli("reindex", "--to", target, "--batch-size", "2", "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["resumed_after"] is not None
        assert report["backend"] == target
        assert env.settings.resolved_search_url == target
        env.container.reopen_search()
        assert env.container.search.name == "tantivy"
        assert found(env, "违约金") == expected
        with env.container.database.session() as session:
            entry = session.scalars(
                select(AuditEntry).where(AuditEntry.action == "search.switch")
            ).one()
            assert entry.before == {"backend": before}
    finally:
        search_record.record(env.settings, before)
        env.container.reopen_search()
    assert env.container.search.name == "whoosh"


# Only an instance whose backend is recorded switches (with ARCHIVE_SEARCH_URL set the
# switch is refused, shown above).
@pytest.mark.parametrize("env", ["sqlite-whoosh"], indirect=True)
def test_a_switch_killed_midway_leaves_the_old_index_answering_then_completes(
    env: Env, tmp_path: Path
) -> None:
    before = env.settings.resolved_search_url
    expected = found(env, "违约金")
    target = f"tantivy://{tmp_path / 'killed-switch-index'}"
    checkpoints = set(env.settings.home.glob("search-switch-*.checkpoint"))
    # One document per batch, so the build is still going when its first batch is in.
    kill_when(
        env.settings,
        ["reindex", "--to", target, "--batch-size", "1"],
        lambda: bool(set(env.settings.home.glob("search-switch-*.checkpoint")) - checkpoints),
        tmp_path / "switch.log",
    )
    # Killed after its first batch: the instance still searches the old index.
    assert env.settings.resolved_search_url == before
    env.container.reopen_search()
    assert env.container.search.name == "whoosh"
    assert found(env, "违约金") == expected
    try:
        result = env.cli("reindex", "--to", target, "--batch-size", "1", "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["resumed_after"] is not None  # went on after the killed one's batches
        assert env.settings.resolved_search_url == target
        env.container.reopen_search()
        assert env.container.search.name == "tantivy"
        assert found(env, "违约金") == expected
        assert "scan" in found(env, "逾期交货")  # the OCR text of the scan too
    finally:
        search_record.record(env.settings, before)
        env.container.reopen_search()
    assert env.container.search.name == "whoosh"
