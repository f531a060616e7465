"""Keeping the index in step: metadata edits, archive changes, removal with purge,
resumable reindex, and the index check that finds and repairs drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from archive_app.errors import PermissionDenied
from archive_app.models import Document
from archive_app.models.base import utcnow
from archive_app.search import maintenance as search_maintenance
from archive_app.search import updates as search_updates
from archive_app.services import archives, documents
from archive_app.services.archives import ArchiveInput
from indexing.search import index_terms

from .conftest import Env
from .test_search import found

pytestmark = pytest.mark.slow  # seconds per test: real processes, documents or servers


def test_metadata_edit_is_reflected(env: Env) -> None:
    number = env.numbers["delivery_note"]
    with env.container.database.session() as session:
        documents.edit_document(
            session,
            env.admin(),
            number,
            title="Warehouse receipt zebra",
            class_code="invoice",
            values={"amount": "777.00"},
        )
    assert found(env, "zebra") == {"delivery_note"}
    assert found(env, "deliver", class_code="invoice") == {"delivery_note"}
    assert found(env, "", amount_min="777", amount_max="777") == {"delivery_note"}
    with env.container.database.session() as session:
        documents.edit_document(
            session, env.admin(), number, title="Delivery note", class_code="other"
        )
    assert found(env, "zebra") == set()
    assert found(env, "deliver", class_code="invoice") == set()


def test_a_recorded_reindex_reaches_the_index_after_commit_and_never_on_rollback(
    env: Env,
) -> None:
    # What the checklist's confirmation does (tests/checklist covers that it does it).
    admin_id = env.admin().id
    agreement = env.ids["agreement"]
    with env.container.database.session() as session:
        document = session.get(Document, agreement)
        document.declared_at = utcnow()
        document.declared_by_id = admin_id
        search_updates.reindex(session, documents=[agreement])
    assert found(env, "deliver", state="declared") == {"agreement"}
    assert found(env, "deliver", state="ready") == {"delivery_note"}
    with pytest.raises(RuntimeError), env.container.database.session() as session:
        session.get(Document, agreement).declared_at = None
        search_updates.reindex(session, documents=[agreement])
        raise RuntimeError("the use case fails after recording its change")
    assert found(env, "deliver", state="declared") == {"agreement"}
    with env.container.database.session() as session:
        document = session.get(Document, agreement)
        document.declared_at = None
        document.declared_by_id = None
        search_updates.reindex(session, documents=[agreement])
    assert found(env, "deliver", state="declared") == set()


def test_a_removal_rolled_back_leaves_the_entry_findable(env: Env) -> None:
    with pytest.raises(RuntimeError), env.container.database.session() as session:
        search_updates.remove(session, [env.ids["memo"]])
        session.flush()
        raise RuntimeError("the destruction fails before it commits")
    assert found(env, "xylophonist") == {"memo"}


def test_archive_name_and_level_changes_are_reflected(env: Env) -> None:
    number = env.archives["harbour"]

    def update(**changes: str) -> None:
        values = {"name": "Harbour Tools Ltd", "level": "public", **changes}
        with env.container.database.session() as session:
            archives.update_archive(session, env.admin(), number, ArchiveInput(**values))
        env.container.drain_index_updates()

    update(name="Harbour Tools Holdings")
    assert found(env, "holdings") == {"agreement", "delivery_note"}
    update(level="secret")
    assert found(env, "deliver", user="staff") == set()
    assert found(env, "deliver") == {"agreement", "delivery_note"}
    update()
    assert found(env, "holdings") == set()
    assert found(env, "deliver", user="staff") == {"agreement", "delivery_note"}


def _index_files_contain(folder: Path, needle: bytes) -> list[str]:
    return [p.name for p in folder.iterdir() if p.is_file() and needle in p.read_bytes()]


def test_removed_document_is_unfindable_and_its_terms_are_gone(env: Env) -> None:
    doc_id = env.ids["memo"]
    assert found(env, "xylophonist") == {"memo"}
    [(term, _pos)] = [t for t in index_terms("xylophonist")]
    folder = env.settings.home / "index"
    if env.kind.endswith("whoosh"):
        assert _index_files_contain(folder, term.encode())  # the test can see the term
    # What the retention engine does: destroy the record and remove it from the index in
    # one transaction; the entry goes as it commits, the purge follows.
    with env.container.database.session() as session:
        session.get(Document, doc_id).destroyed_at = utcnow()
        search_updates.remove(session, [doc_id])
    assert found(env, "xylophonist") == set()
    assert found(env, "quixotic") == set()
    assert str(doc_id) not in set(env.container.search.doc_ids())
    if env.kind.endswith("whoosh"):
        assert _index_files_contain(folder, term.encode()) == []
        assert _index_files_contain(folder, b"quixot") == []
    else:
        backend = env.container.search
        with backend.engine.connect() as connection:
            left = connection.execute(
                text(f'SELECT count(*) FROM "{backend.table_name}" WHERE tsv::text LIKE :t'),
                {"t": f"%{term}%"},
            ).scalar_one()
        assert left == 0
    # A check does not bring it back: a destroyed document is not indexable.
    assert search_maintenance.check(env.container, env.admin()).clean


class Interrupted(Exception):
    pass


def test_reindex_resumes_after_an_interruption(env: Env) -> None:
    checkpoint = Path(search_maintenance.checkpoint_path(env.container))
    expected = set(env.container.search.doc_ids())
    env.container.search.clear()
    assert found(env, "违约金") == set()
    seen: list[search_maintenance.Progress] = []

    def stop_after_first_batch(progress: search_maintenance.Progress) -> None:
        seen.append(progress)
        if progress.done >= 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        search_maintenance.rebuild(
            env.container, env.admin(), batch_size=2, on_progress=stop_after_first_batch
        )
    assert checkpoint.exists()
    assert seen[0].total == len(expected)
    assert len(set(env.container.search.doc_ids())) == 2

    resumed: list[search_maintenance.Progress] = []
    report = search_maintenance.rebuild(
        env.container, env.admin(), batch_size=2, on_progress=resumed.append
    )
    assert report.resumed_after is not None
    assert report.indexed == len(expected) - 2
    assert resumed[0].total == len(expected) - 2
    assert not checkpoint.exists()
    assert set(env.container.search.doc_ids()) == expected
    assert found(env, "违约金") == {"penalty", "secret", "scan"}


def test_reindex_command(env: Env) -> None:
    result = env.cli("reindex", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["indexed"] == len(set(env.container.search.doc_ids()))
    assert report["resumed_after"] is None


def test_index_check_repairs_a_removed_entry(env: Env) -> None:
    doc_id = env.ids["penalty"]
    env.container.search.delete([str(doc_id)])
    assert found(env, "守约方") == set()
    report = search_maintenance.check(env.container, env.admin())
    assert report.missing == [env.numbers["penalty"]] and report.extra == []
    assert not report.clean

    # An entry for a document the database does not know.
    from indexing.search import IndexDocument

    env.container.search.add(
        [IndexDocument("999999", "1", "KH-X", "other", "ready", "public", "stray", "stray")]
    )
    result = env.cli("index", "check", "--json")
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert body["missing"] == [env.numbers["penalty"]]
    assert body["extra"] == ["#999999"]

    result = env.cli("index", "check", "--repair", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert (body["added"], body["removed"], body["repaired"]) == (1, 1, True)
    assert found(env, "守约方") == {"penalty"}
    assert search_maintenance.check(env.container, env.admin()).clean
    assert env.cli("index", "check").returncode == 0


def test_index_maintenance_is_for_compliance_and_administrators(env: Env) -> None:
    # Both name documents of every archive, whatever the user's clearance.
    staff = env.user("staff")
    with pytest.raises(PermissionDenied):
        search_maintenance.check(env.container, staff)
    with pytest.raises(PermissionDenied):
        search_maintenance.rebuild(env.container, staff)
    for command in (["index", "check"], ["reindex"]):
        result = env.cli(*command, "--as", "staff")
        assert result.returncode != 0
        assert "user 'staff' may not" in result.stderr
        assert "Traceback" not in result.stderr
